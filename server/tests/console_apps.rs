//! Partner apps from the console: registered with the secret shown once and signed in through
//! at once; disabled (refused everywhere, its refresh tokens dead) and enabled again; the secret
//! rotated (the old one refused at once); the token activity counted. The sign-in settings
//! saved from the console, each change audited with its before and after.

mod support;

use app::domain::staff::StaffRole;
use sqlx::PgPool;
use support::{
    oidc::{answer, authorize_url, location, token, REDIRECT, VERIFIER},
    TestApp,
};

async fn create(admin: &support::Browser) -> serde_json::Value {
    let res = admin
        .call(
            "console/apps/create",
            &[
                ("app[name]", "Console Shop"),
                ("app[client_type]", "confidential"),
                ("app[redirect_uris]", REDIRECT),
                ("app[first_party]", "on"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    res.json().await.unwrap()
}

async fn code(browser: &support::Browser, client_id: &str) -> String {
    let registered = app::domain::oidc::registration::Registered {
        client_id: client_id.to_owned(),
        client_secret: None,
    };
    let res = browser
        .get(&authorize_url(
            &registered,
            &[("scope", "openid email offline_access")],
        ))
        .await;
    assert_eq!(res.status(), 303);
    answer(&location(&res))["code"].clone()
}

async fn exchange(app: &TestApp, client_id: &str, secret: &str, code: &str) -> reqwest::Response {
    token(
        app,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
        Some((client_id, secret)),
    )
    .await
}

#[sqlx::test(migrations = "../migrations")]
async fn an_app_registered_in_the_console_signs_people_in_and_can_be_disabled_and_rotated(
    db: PgPool,
) {
    let app = TestApp::spawn(db).await;
    let admin = app
        .signed_in_staff("admin@staff.example.com", StaffRole::Admin)
        .await;
    let created = create(&admin).await;
    let client_id = created["client_id"].as_str().unwrap().to_owned();
    let secret = created["client_secret"].as_str().unwrap().to_owned();
    let stored: Vec<u8> = sqlx::query_scalar("SELECT secret_hash FROM oauth_clients WHERE id = $1")
        .bind(&client_id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_ne!(stored, secret.as_bytes(), "only a keyed hash is kept");

    let customer = app.signed_in_customer("ada@example.com").await;
    let res = exchange(
        &app,
        &client_id,
        &secret,
        &code(&customer, &client_id).await,
    )
    .await;
    assert_eq!(res.status(), 200);
    let tokens: serde_json::Value = res.json().await.unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();

    let res = admin.call("console/apps", &[]).await;
    let apps: serde_json::Value = res.json().await.unwrap();
    let listed = apps
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["client_id"] == client_id.as_str())
        .unwrap();
    assert!(
        listed["activity"]
            .as_str()
            .unwrap()
            .starts_with("1 code(s) today"),
        "{listed}"
    );
    assert!(listed["try_sign_in"]
        .as_str()
        .unwrap()
        .starts_with("/oauth2/authorize?"));

    // Disabled: refused everywhere, its refresh token dead for good.
    let res = admin
        .call(
            "console/apps/enabled",
            &[
                ("client_id", &client_id),
                ("enabled", "false"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let refresh_form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
    ];
    let res = token(&app, &refresh_form, Some((&client_id, &secret))).await;
    assert_eq!(res.status(), 401, "{}", res.text().await.unwrap());
    let registered = app::domain::oidc::registration::Registered {
        client_id: client_id.clone(),
        client_secret: None,
    };
    let res = customer.get(&authorize_url(&registered, &[])).await;
    let went = res
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert!(
        !went.starts_with(REDIRECT),
        "no code for a disabled app: {went}"
    );
    let res = admin
        .call(
            "console/apps/enabled",
            &[
                ("client_id", &client_id),
                ("enabled", "true"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = token(&app, &refresh_form, Some((&client_id, &secret))).await;
    assert_eq!(res.status(), 400, "the grant stays ended");

    // Rotated: the old secret stops at once.
    let res = admin
        .call(
            "console/apps/rotate",
            &[("client_id", &client_id), ("confirm", "yes")],
        )
        .await;
    assert_eq!(res.status(), 200);
    let fresh: String = res.json().await.unwrap();
    let code_a = code(&customer, &client_id).await;
    assert_eq!(
        exchange(&app, &client_id, &secret, &code_a).await.status(),
        401
    );
    let code_b = code(&customer, &client_id).await;
    assert_eq!(
        exchange(&app, &client_id, &fresh, &code_b).await.status(),
        200
    );

    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_events WHERE action LIKE 'client.%' ORDER BY id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        actions,
        [
            "client.created",
            "client.disabled",
            "client.enabled",
            "client.secret_rotated"
        ]
    );

    // A bad registration: a clear error, nothing stored.
    let res = admin
        .call(
            "console/apps/create",
            &[
                ("app[name]", "Bad"),
                ("app[client_type]", "confidential"),
                ("app[redirect_uris]", "http://evil.example/cb"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(res.status(), 400);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM oauth_clients")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(count, 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_settings_form_saves_what_changed_and_refuses_bad_thresholds_whole(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let admin = app
        .signed_in_staff("admin@staff.example.com", StaffRole::Admin)
        .await;
    let res = admin.call("console/settings", &[]).await;
    let before: serde_json::Value = res.json().await.unwrap();
    let ticked: Vec<String> = before["switches"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["on"] == true && s["name"] != "sms_enabled")
        .map(|s| format!("settings[{}]", s["name"].as_str().unwrap()))
        .collect();
    let save = |step_up: &'static str, block: &'static str, sms: bool| {
        let mut form: Vec<(String, String)> =
            ticked.iter().map(|k| (k.clone(), "on".into())).collect();
        if sms {
            form.push(("settings[sms_enabled]".into(), "on".into()));
        }
        form.push(("settings[mfa_policy]".into(), "required".into()));
        form.push(("settings[risk_step_up]".into(), step_up.into()));
        form.push(("settings[risk_block]".into(), block.into()));
        form.push(("confirm".into(), "yes".into()));
        form
    };
    let call = |form: Vec<(String, String)>| {
        let admin = &admin;
        async move {
            let pairs: Vec<(&str, &str)> =
                form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            admin.call("console/settings/save", &pairs).await
        }
    };
    // Block below step-up: refused, and nothing else changes either.
    let res = call(save("80", "20", true)).await;
    assert_eq!(res.status(), 422);
    let after: serde_json::Value = admin
        .call("console/settings", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after, before);

    let res = call(save("30", "95", true)).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let changed: usize = res.json().await.unwrap();
    assert_eq!(changed, 3, "thresholds, SMS, the policy");
    let after: serde_json::Value = admin
        .call("console/settings", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after["mfa_policy"], "required");
    assert_eq!(after["risk_step_up"], 30);
    let details: Vec<serde_json::Value> = sqlx::query_scalar(
        "SELECT detail FROM audit_events WHERE action = 'settings.changed' ORDER BY id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(details.len(), 3);
    assert!(details
        .iter()
        .any(|d| d["setting"] == "sms_enabled" && d["from"] == false && d["to"] == true));
}
