//! Partner apps from the console: registered with the secret shown once and signed in through
//! at once; disabled (refused everywhere, its refresh tokens dead) and enabled again; the secret
//! rotated (the old one refused at once); the token activity counted. The sign-in settings
//! saved from the console, each change audited with its before and after.

use crate::support::{
    oidc::{answer, authorize_url, location, token, REDIRECT, VERIFIER},
    TestApp,
};
use app::domain::staff::StaffRole;
use sqlx::PgPool;

async fn create(admin: &crate::support::Browser) -> serde_json::Value {
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

async fn code(browser: &crate::support::Browser, client_id: &str) -> String {
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
        for (name, value) in [
            ("password_min_length", "8"),
            ("password_min_strength", "3"),
            ("session_idle_minutes", "30"),
            ("session_max_hours", "12"),
        ] {
            form.push((format!("settings[{name}]"), value.into()));
        }
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

/// The header of a JWT.
fn jwt_header(jwt: &str) -> serde_json::Value {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
    let head = jwt.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(head).unwrap()).unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn an_app_edited_in_the_console_takes_its_new_settings_and_bad_edits_change_nothing(
    db: PgPool,
) {
    let app = TestApp::spawn(db).await;
    let admin = app
        .signed_in_staff("admin@staff.example.com", StaffRole::Admin)
        .await;
    let created = create(&admin).await;
    let client_id = created["client_id"].as_str().unwrap().to_owned();
    let secret = created["client_secret"].as_str().unwrap().to_owned();
    let customer = app.signed_in_customer("ada@example.com").await;
    let tokens: serde_json::Value = exchange(
        &app,
        &client_id,
        &secret,
        &code(&customer, &client_id).await,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(tokens["expires_in"], 600);
    assert!(tokens["refresh_token"].is_string());
    assert_eq!(
        jwt_header(tokens["id_token"].as_str().unwrap())["alg"],
        "RS256"
    );

    let settings: serde_json::Value = admin
        .call("console/app", &[("client_id", &client_id)])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(settings["form"]["refresh_tokens"], "on");
    let edit = |changes: &[(&'static str, &'static str)]| {
        let mut form: Vec<(String, String)> = [
            ("app[name]", "Console Shop"),
            ("app[redirect_uris]", REDIRECT),
            ("app[first_party]", "on"),
            ("app[id_token_alg]", "ES256"),
            ("app[access_token_ttl_secs]", "120"),
            ("app[refresh_token_ttl_secs]", "2592000"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (k, v) in changes {
            form.retain(|(name, _)| name != k);
            form.push((k.to_string(), v.to_string()));
        }
        form.push(("client_id".into(), client_id.clone()));
        form.push(("confirm".into(), "yes".into()));
        form
    };
    let call = |form: Vec<(String, String)>| {
        let admin = &admin;
        async move {
            let pairs: Vec<(&str, &str)> =
                form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            admin.call("console/app/save", &pairs).await
        }
    };

    // Bad edits: a clear error each, and nothing changes.
    for (change, status) in [
        (("app[access_token_ttl_secs]", "10"), 422),
        (("app[refresh_token_ttl_secs]", "99999999999"), 422),
        (("app[id_token_alg]", "HS256"), 422),
        (("app[redirect_uris]", "http://evil.example/cb"), 400),
        (("app[backchannel_logout_uri]", "javascript:alert(1)"), 400),
        (("app[name]", ""), 400),
    ] {
        let res = call(edit(&[change])).await;
        assert_eq!(
            res.status(),
            status,
            "{change:?}: {}",
            res.text().await.unwrap()
        );
    }
    let unchanged: serde_json::Value = admin
        .call("console/app", &[("client_id", &client_id)])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(unchanged, settings);

    // A good one: shorter access tokens, ES256 ID tokens, no more refresh tokens.
    let res = call(edit(&[])).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert_eq!(res.json::<usize>().await.unwrap(), 3);
    let detail: serde_json::Value =
        sqlx::query_scalar("SELECT detail FROM audit_events WHERE action = 'client.updated'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(detail["changes"]["access_token_ttl_secs"]["from"], 600);
    assert_eq!(detail["changes"]["access_token_ttl_secs"]["to"], 120);
    assert_eq!(detail["changes"]["id_token_alg"]["to"], "ES256");
    assert_eq!(detail["changes"]["refresh_tokens"]["to"], false);

    // The provider's copies learn of it from the change notice.
    let fresh = crate::support::eventually(|| async {
        let res = exchange(
            &app,
            &client_id,
            &secret,
            &code(&customer, &client_id).await,
        )
        .await;
        let tokens: serde_json::Value = res.json().await.unwrap();
        tokens["expires_in"] == 120
            && tokens["refresh_token"].is_null()
            && jwt_header(tokens["id_token"].as_str().unwrap())["alg"] == "ES256"
    })
    .await;
    assert!(fresh, "the edit reached the token endpoint");
}
