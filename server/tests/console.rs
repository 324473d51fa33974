//! The admin console's server side: the role matrix (every console action as every staff role,
//! refused or allowed, and a matrix that must name every console endpoint), customer search at
//! scale and its pagination, the actions on an account and what each does to the customer, the
//! staff session's shorter idle limit, and the last owner.

use crate::support::{error_of, Browser, TestApp, GOOD_PASSWORD};
use app::domain::{audit::Actor, customers::seed, staff::StaffRole};
use sqlx::PgPool;

const CUSTOMER: &str = "grace@example.com";

fn staff_email(role: StaffRole) -> String {
    format!("{role}@staff.example.com")
}

async fn customer_id(app: &TestApp, email: &str) -> String {
    let id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(email)
        .fetch_one(&app.db)
        .await
        .unwrap();
    id.to_string()
}

/// Acts on a customer as the console's form does, with a reason and the box ticked.
async fn act(browser: &Browser, id: &str, action: &str) -> reqwest::Response {
    browser
        .call(
            "console/customer/act",
            &[
                ("id", id),
                ("action", action),
                ("reason", "ticket 4711"),
                ("confirm", "yes"),
            ],
        )
        .await
}

/// A console endpoint, the form it is called with, and the roles it must allow.
type Walk = (&'static str, Vec<(String, String)>, &'static [StaffRole]);

/// Every console endpoint, the form it is called with, and the roles it must allow.
fn matrix(customer: &str, staff_member: &str, app: &str) -> Vec<Walk> {
    use StaffRole::*;
    let form = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let action = |name: &str| {
        form(&[
            ("id", customer),
            ("action", name),
            ("reason", "matrix"),
            ("confirm", "yes"),
        ])
    };
    let readers: &'static [StaffRole] = &[Owner, Admin, Support];
    let writers: &'static [StaffRole] = &[Owner, Admin];
    vec![
        ("console/me", form(&[]), &[Owner, Admin, Support, Auditor]),
        ("console/customers", form(&[("query[q]", "grace")]), readers),
        ("console/customer", form(&[("id", customer)]), readers),
        ("console/customer/act", action("unlock"), readers),
        ("console/customer/act", action("end_sessions"), readers),
        (
            "console/customer/act",
            action("resend_verification"),
            readers,
        ),
        ("console/customer/act", action("lock"), writers),
        ("console/customer/act", action("require_reset"), writers),
        ("console/customer/act", action("verify_email"), writers),
        (
            "console/customer/act",
            action("remove_authenticator"),
            writers,
        ),
        ("console/customer/act", action("remove_passkey"), writers),
        ("console/customer/act", action("remove_phone"), writers),
        (
            "console/customer/rename",
            form(&[
                ("id", customer),
                ("display_name", "Grace H."),
                ("reason", "matrix"),
                ("confirm", "yes"),
            ]),
            writers,
        ),
        (
            "console/customer/email",
            form(&[
                ("id", customer),
                ("email", "grace.moved@example.com"),
                ("reason", "matrix: checked by phone"),
                ("confirm", "yes"),
            ]),
            writers,
        ),
        ("console/staff", form(&[]), writers),
        (
            "console/audit",
            form(&[("query[action]", "signin.")]),
            &[Owner, Admin, Auditor],
        ),
        (
            "console/dashboard",
            form(&[("days", "7")]),
            &[Owner, Admin, Auditor],
        ),
        (
            "console/breach/preview",
            form(&[("form[kind]", "customers"), ("form[customers]", customer)]),
            writers,
        ),
        (
            "console/breach/start",
            form(&[
                ("form[kind]", "customers"),
                ("form[customers]", customer),
                ("form[notice]", "matrix"),
                ("confirm", "yes"),
            ]),
            writers,
        ),
        ("console/breach/progress", form(&[("id", "1")]), writers),
        ("console/imports", form(&[]), writers),
        ("console/apps", form(&[]), writers),
        ("console/settings", form(&[]), writers),
        (
            "console/settings/save",
            form(&[
                ("settings[mfa_policy]", "admins"),
                ("settings[risk_step_up]", "40"),
                ("settings[risk_block]", "90"),
                ("settings[require_verified_email]", "on"),
                ("settings[password_min_length]", "8"),
                ("settings[password_min_strength]", "3"),
                ("settings[session_idle_minutes]", "30"),
                ("settings[session_max_hours]", "12"),
                ("confirm", "yes"),
            ]),
            writers,
        ),
        ("console/app", form(&[("client_id", app)]), writers),
        (
            "console/app/save",
            form(&[
                ("client_id", app),
                ("app[name]", "Matrix app, renamed"),
                ("app[redirect_uris]", "https://partner.example/callback"),
                ("app[id_token_alg]", "ES256"),
                ("app[access_token_ttl_secs]", "600"),
                ("app[refresh_token_ttl_secs]", "86400"),
                ("confirm", "yes"),
            ]),
            writers,
        ),
        ("console/social", form(&[]), writers),
        (
            "console/social/add",
            form(&[
                ("provider[id]", "matrix-gh"),
                ("provider[kind]", "github"),
                ("provider[client_id]", "matrix-client"),
                ("provider[client_secret]", "matrix-secret"),
                ("confirm", "yes"),
            ]),
            writers,
        ),
        (
            "console/social/change",
            form(&[
                ("provider[id]", "matrix-gh"),
                ("provider[display_name]", "GitHub (matrix)"),
                ("provider[client_id]", "matrix-client-2"),
                ("provider[scopes]", "read:user user:email"),
                ("confirm", "yes"),
            ]),
            writers,
        ),
        ("console/social/test", form(&[("id", "matrix-gh")]), writers),
        (
            "console/social/enabled",
            form(&[
                ("id", "matrix-gh"),
                ("enabled", "false"),
                ("confirm", "yes"),
            ]),
            writers,
        ),
        (
            "console/social/remove",
            form(&[("id", "matrix-gh"), ("confirm", "yes")]),
            writers,
        ),
        ("console/brand", form(&[("app", app)]), writers),
        (
            "console/brand/save",
            form(&[
                ("app", app),
                ("brand[product_name]", "Matrix"),
                ("brand[primary_color]", "#112233"),
                ("brand[accent_color]", "#445566"),
                ("brand[background_color]", "#ffffff"),
                ("brand[text_color]", "#000000"),
                ("brand[font]", "serif"),
                ("brand[mail_sender_name]", "Matrix"),
                ("confirm", "yes"),
            ]),
            writers,
        ),
        (
            "console/brand/reset",
            form(&[("app", app), ("confirm", "yes")]),
            writers,
        ),
        (
            "console/apps/create",
            form(&[
                ("app[name]", "Matrix app"),
                ("app[client_type]", "public"),
                ("app[redirect_uris]", "https://matrix.example/cb"),
                ("confirm", "yes"),
            ]),
            writers,
        ),
        (
            "console/apps/enabled",
            form(&[("client_id", app), ("enabled", "true"), ("confirm", "yes")]),
            writers,
        ),
        (
            "console/apps/rotate",
            form(&[("client_id", app), ("confirm", "yes")]),
            writers,
        ),
        (
            "console/staff/invite",
            form(&[
                ("email", "invited@staff.example.com"),
                ("role", "support"),
                ("confirm", "yes"),
            ]),
            &[Owner],
        ),
        (
            "console/staff/role",
            form(&[
                ("user_id", staff_member),
                ("role", "auditor"),
                ("reason", "matrix"),
                ("confirm", "yes"),
            ]),
            &[Owner],
        ),
        (
            "console/staff/remove",
            form(&[
                ("user_id", staff_member),
                ("reason", "matrix"),
                ("confirm", "yes"),
            ]),
            &[Owner],
        ),
        // Last: it deletes the customer.
        ("console/customer/act", action("delete"), writers),
    ]
}

/// The console endpoints the code declares.
fn declared_endpoints() -> Vec<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../app/src/api/console");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for part in text.split("endpoint = \"").skip(1) {
            found.push(part.split('"').next().unwrap().to_owned());
        }
    }
    found.sort();
    found.dedup();
    found
}

#[sqlx::test(migrations = "../migrations")]
async fn every_console_action_is_refused_or_allowed_by_role(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let mut staff = Vec::new();
    for role in StaffRole::ALL {
        staff.push((*role, app.signed_in_staff(&staff_email(*role), *role).await));
    }
    // A staff member for the owner to demote and remove (not one of the four walking).
    let _spare = app
        .signed_in_staff("spare@staff.example.com", StaffRole::Support)
        .await;
    let spare = customer_id(&app, "spare@staff.example.com").await;
    app.signed_in_customer(CUSTOMER).await;
    let customer = customer_id(&app, CUSTOMER).await;

    let app_id = crate::support::oidc::register(
        &app,
        app::domain::oidc::clients::ClientType::Confidential,
        false,
    )
    .await
    .client_id;
    let matrix = matrix(&customer, &spare, &app_id);
    let covered: Vec<&str> = matrix.iter().map(|(e, _, _)| *e).collect();
    for endpoint in declared_endpoints() {
        assert!(
            covered.contains(&endpoint.as_str()),
            "the role matrix does not walk {endpoint}"
        );
    }
    // Refused roles first, so that nothing an allowed role did changes what they meet.
    for (endpoint, form, allowed) in &matrix {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        for (role, browser) in staff.iter().filter(|(r, _)| !allowed.contains(r)) {
            let res = browser.call(endpoint, &form).await;
            assert_eq!(
                res.status(),
                403,
                "{role} must be refused {endpoint} {form:?}"
            );
        }
        for (role, browser) in staff.iter().filter(|(r, _)| allowed.contains(r)) {
            let res = browser.call(endpoint, &form).await;
            let status = res.status();
            assert_ne!(status, 403, "{role} must be allowed {endpoint} {form:?}");
            assert!(
                status.is_success() || status == 404 || status == 400,
                "{role} on {endpoint} {form:?}: {status} {}",
                res.text().await.unwrap()
            );
        }
    }
    let denied: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events WHERE action = 'staff.denied' AND outcome = 'failure'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(denied >= 20, "each refusal is audited ({denied})");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_customer_is_not_staff_and_gets_nothing_from_the_console(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let customer = app.signed_in_customer(CUSTOMER).await;
    let id = customer_id(&app, CUSTOMER).await;
    assert_eq!(customer.call("console/me", &[]).await.status(), 403);
    assert_eq!(
        customer
            .call("console/customer", &[("id", &id)])
            .await
            .status(),
        403
    );
    assert_eq!(act(&customer, &id, "unlock").await.status(), 403);
    let anonymous = app.browser();
    assert_eq!(anonymous.call("console/me", &[]).await.status(), 401);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_locked_customer_is_signed_out_everywhere_and_cannot_sign_in_until_unlocked(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let admin = app
        .signed_in_staff("admin@staff.example.com", StaffRole::Admin)
        .await;
    let customer = app.signed_in_customer(CUSTOMER).await;
    let id = customer_id(&app, CUSTOMER).await;

    let res = act(&admin, &id, "lock").await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert!(customer.me().await.is_none(), "the session ended at once");
    let again = app.browser();
    let res = again
        .call(
            "sign-in",
            &[("email", CUSTOMER), ("password", GOOD_PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 403);
    assert!(error_of(res).await.to_string().contains("locked"));

    let (actor, reason): (Option<uuid::Uuid>, Option<String>) = sqlx::query_as(
        "SELECT actor_id, detail->>'reason' FROM audit_events WHERE action = 'account.locked'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let admin_id: uuid::Uuid = customer_id(&app, "admin@staff.example.com")
        .await
        .parse()
        .unwrap();
    assert_eq!(actor, Some(admin_id));
    assert_eq!(reason.as_deref(), Some("ticket 4711"));

    let res = act(&admin, &id, "unlock").await;
    assert_eq!(res.status(), 200);
    let res = again
        .call(
            "sign-in",
            &[("email", CUSTOMER), ("password", GOOD_PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}

#[sqlx::test(migrations = "../migrations")]
async fn an_action_needs_a_reason_and_the_box_ticked_and_changes_nothing_without(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let admin = app
        .signed_in_staff("admin@staff.example.com", StaffRole::Admin)
        .await;
    app.signed_in_customer(CUSTOMER).await;
    let id = customer_id(&app, CUSTOMER).await;
    let res = admin
        .call(
            "console/customer/act",
            &[
                ("id", &id),
                ("action", "lock"),
                ("reason", "  "),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert_eq!(error_of(res).await["Field"]["field"], "reason");
    let res = admin
        .call(
            "console/customer/act",
            &[("id", &id), ("action", "lock"), ("reason", "because")],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert_eq!(error_of(res).await["Field"]["field"], "confirm");
    let res = admin
        .call(
            "console/customer/act",
            &[
                ("id", &id),
                ("action", "explode"),
                ("reason", "x"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(res.status(), 400);
    let res = act(&admin, "not-an-id", "lock").await;
    assert_eq!(res.status(), 404);
    let locked: bool =
        sqlx::query_scalar("SELECT locked_at IS NOT NULL FROM users WHERE id = $1::uuid")
            .bind(&id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(!locked);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_required_reset_refuses_the_old_password_until_the_owner_resets_it(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let admin = app
        .signed_in_staff("admin@staff.example.com", StaffRole::Admin)
        .await;
    let customer = app.signed_in_customer(CUSTOMER).await;
    let id = customer_id(&app, CUSTOMER).await;
    let res = act(&admin, &id, "require_reset").await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert!(customer.me().await.is_none());
    let res = app
        .browser()
        .call(
            "sign-in",
            &[("email", CUSTOMER), ("password", GOOD_PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 403);
    assert!(error_of(res).await.to_string().contains("Forgot"));
    let owner = app
        .reset_password(CUSTOMER, "a fresh horse battery staple")
        .await;
    assert!(owner.me().await.is_some());
    let res = app
        .browser()
        .call(
            "sign-in",
            &[
                ("email", CUSTOMER),
                ("password", "a fresh horse battery staple"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_change_needs_a_recent_second_factor(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let admin = app
        .signed_in_staff("admin@staff.example.com", StaffRole::Admin)
        .await;
    app.signed_in_customer(CUSTOMER).await;
    let id = customer_id(&app, CUSTOMER).await;
    // Eleven minutes pass since the second factor.
    sqlx::query(
        "UPDATE sessions SET data = jsonb_set(data, '{mfa_at}', to_jsonb((data->>'mfa_at')::bigint - 660))
         WHERE user_id = (SELECT id FROM users WHERE email = 'admin@staff.example.com')",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let res = act(&admin, &id, "lock").await;
    assert_eq!(res.status(), 403);
    assert_eq!(error_of(res).await, serde_json::json!("StepUp"));
    // Reading needs no fresh proof.
    assert_eq!(
        admin
            .call("console/customer", &[("id", &id)])
            .await
            .status(),
        200
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_staff_session_idles_out_sooner_than_a_customers(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let admin = app
        .signed_in_staff("admin@staff.example.com", StaffRole::Admin)
        .await;
    let customer = app.signed_in_customer(CUSTOMER).await;
    // Sixteen minutes without a request, for both.
    sqlx::query(
        "UPDATE sessions SET data = jsonb_set(data, '{seen_at}', to_jsonb((data->>'seen_at')::bigint - 960))
         WHERE user_id IS NOT NULL",
    )
    .execute(&app.db)
    .await
    .unwrap();
    assert!(
        customer.me().await.is_some(),
        "a customer's limit is 30 minutes"
    );
    assert_eq!(admin.call("console/me", &[]).await.status(), 401);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_console_shows_the_staff_signed_in_and_keeps_the_last_owner(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let owner = app
        .signed_in_staff("owner@staff.example.com", StaffRole::Owner)
        .await;
    app.signed_in_staff("support@staff.example.com", StaffRole::Support)
        .await;
    let res = owner.call("console/me", &[]).await;
    assert_eq!(res.status(), 200);
    let view: serde_json::Value = res.json().await.unwrap();
    let present: Vec<&str> = view["present"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["email"].as_str().unwrap())
        .collect();
    assert!(
        present.contains(&"support@staff.example.com"),
        "{present:?}"
    );
    let me = customer_id(&app, "owner@staff.example.com").await;
    let res = owner
        .call(
            "console/staff/role",
            &[
                ("user_id", &me),
                ("role", "admin"),
                ("reason", "step down"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(res.status(), 400);
    assert!(error_of(res).await.to_string().contains("last owner"));
}

/// The query form of the search endpoint.
fn search_form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (format!("query[{k}]"), v.to_string()))
        .collect()
}

async fn search(browser: &Browser, pairs: &[(&str, &str)]) -> serde_json::Value {
    let form = search_form(pairs);
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let res = browser.call("console/customers", &form).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    res.json().await.unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn search_finds_by_substring_prefix_phone_and_id_and_pages_without_repeats(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let support = app
        .signed_in_staff("support@staff.example.com", StaffRole::Support)
        .await;
    let state = server::startup::app_state(app.db.clone(), &app.config).unwrap();
    seed::seed(&state, 260, None, Actor::Cli).await.unwrap();
    app.signed_in_customer(CUSTOMER).await;

    // Every customer, 50 at a time, newest first, none twice.
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE role = 'customer'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    for sort in ["newest", "oldest", "email"] {
        let mut seen = std::collections::HashSet::new();
        let mut cursor = String::new();
        loop {
            let page = search(&support, &[("sort", sort), ("cursor", &cursor)]).await;
            for row in page["rows"].as_array().unwrap() {
                assert!(
                    seen.insert(row["id"].as_str().unwrap().to_owned()),
                    "{sort}: a repeat"
                );
            }
            match page["next"].as_str() {
                Some(next) => cursor = next.to_owned(),
                None => break,
            }
        }
        assert_eq!(seen.len() as i64, total, "{sort}");
    }

    let page = search(&support, &[("q", "RACE@EXAMPLE")]).await;
    let emails: Vec<&str> = page["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, [CUSTOMER]);
    let page = search(&support, &[("q", "gr")]).await;
    assert!(page["rows"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["email"].as_str().unwrap().starts_with("gr")));
    let id = customer_id(&app, CUSTOMER).await;
    let page = search(&support, &[("q", &id)]).await;
    assert_eq!(page["rows"][0]["email"], CUSTOMER);
    let phone: String =
        sqlx::query_scalar("SELECT phone FROM users WHERE phone IS NOT NULL LIMIT 1")
            .fetch_one(&app.db)
            .await
            .unwrap();
    let page = search(&support, &[("q", &phone[..10])]).await;
    let rows = page["rows"].as_array().unwrap();
    assert!(!rows.is_empty());
    assert!(rows
        .iter()
        .all(|r| r["phone"].as_str().unwrap().starts_with(&phone[..10])));
    let page = search(&support, &[("q", &phone)]).await;
    assert_eq!(page["rows"][0]["phone"], phone.as_str());
    // A LIKE wildcard is a character like any other.
    let page = search(&support, &[("q", "%%%")]).await;
    assert!(page["rows"].as_array().unwrap().is_empty());

    // Filters agree with the table.
    let unverified: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM users WHERE role = 'customer' AND email_verified_at IS NULL",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let mut count = 0;
    let mut cursor = String::new();
    loop {
        let page = search(&support, &[("verified", "no"), ("cursor", &cursor)]).await;
        count += page["rows"].as_array().unwrap().len() as i64;
        match page["next"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(count, unverified);

    // Bad input: a clear error, no 500.
    let form = search_form(&[("created_from", "yesterday")]);
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let res = support.call("console/customers", &form).await;
    assert_eq!(res.status(), 422);
    let form = search_form(&[("cursor", "forged")]);
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let res = support.call("console/customers", &form).await;
    assert_eq!(res.status(), 400);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_customer_page_holds_their_record_and_no_secret(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let support = app
        .signed_in_staff("support@staff.example.com", StaffRole::Support)
        .await;
    let customer = app.signed_in_customer(CUSTOMER).await;
    crate::support::mfa::enrol_from_profile(&customer).await;
    let id = customer_id(&app, CUSTOMER).await;
    let res = support.call("console/customer", &[("id", &id)]).await;
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    let detail: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(detail["email"], CUSTOMER);
    assert_eq!(detail["totp"], true);
    assert!(!detail["sessions"].as_array().unwrap().is_empty());
    assert!(detail["audit"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["title"].as_str().unwrap().starts_with("signin.succeeded")));
    assert!(!text.contains("argon2"), "no password hash");
    // A staff account is not a customer.
    let staff_id = customer_id(&app, "support@staff.example.com").await;
    let res = support.call("console/customer", &[("id", &staff_id)]).await;
    assert_eq!(res.status(), 404);
}

#[sqlx::test(migrations = "../migrations")]
async fn an_owner_invites_staff_whose_setup_link_is_mailed_to_them_alone(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let owner = app
        .signed_in_staff(&staff_email(StaffRole::Owner), StaffRole::Owner)
        .await;
    app.signed_in_customer(CUSTOMER).await;
    let invite = |email: &'static str| {
        let owner = &owner;
        async move {
            owner
                .call(
                    "console/staff/invite",
                    &[("email", email), ("role", "support"), ("confirm", "yes")],
                )
                .await
        }
    };
    // A customer's address is not made staff.
    let res = invite(CUSTOMER).await;
    assert_eq!(res.status(), 422);
    assert_eq!(
        crate::support::error_of(res).await["Field"]["field"],
        "email"
    );

    let res = invite("new.agent@staff.example.com").await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let body = res.text().await.unwrap();
    assert_eq!(body, "true");
    assert!(!body.contains("token"), "the inviter never sees the link");
    let mail = app
        .mail
        .wait_for(
            "new.agent@staff.example.com",
            "You are invited to the Keyhaven console",
        )
        .await;
    assert!(mail.body.contains("you were made support"));
    let token = TestApp::token_in(&mail.body, "/reset-password");
    assert!(!token.is_empty());
    let staff: serde_json::Value = owner.call("console/staff", &[]).await.json().await.unwrap();
    let invited = staff
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["email"] == "new.agent@staff.example.com")
        .expect("listed");
    assert_eq!(invited["role"], "support");
    let (actor, role): (Option<uuid::Uuid>, String) = sqlx::query_as(
        "SELECT actor_id, detail->>'role' FROM audit_events WHERE action = 'admin.created'
           AND detail->>'email' = 'new.agent@staff.example.com'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(actor.is_some(), "the owner is the actor");
    assert_eq!(role, "support");
}
