//! The audit viewer and its export: filters by actor, customer, action, outcome and network,
//! pages by cursor, exports the filtered view as CSV or JSON (audited itself), and refuses
//! roles without the permission; the dashboard counts from the sealed trail.

use crate::support::{Browser, TestApp};
use app::domain::{client_address::TrustedProxies, staff::StaffRole};
use sqlx::PgPool;

async fn view(browser: &Browser, pairs: &[(&str, &str)]) -> serde_json::Value {
    let form: Vec<(String, &str)> = pairs
        .iter()
        .map(|(k, v)| (format!("query[{k}]"), *v))
        .collect();
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    let res = browser.call("console/audit", &form).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    res.json().await.unwrap()
}

fn actions(page: &serde_json::Value) -> Vec<String> {
    page["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap().to_owned())
        .collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn the_audit_trail_filters_pages_and_exports(db: PgPool) {
    let app = TestApp::spawn_with(db, |config| {
        config.trusted_proxies = TrustedProxies::parse("127.0.0.1").unwrap();
    })
    .await;
    let auditor = app
        .signed_in_staff("auditor@staff.example.com", StaffRole::Auditor)
        .await;
    let support_staff = app
        .signed_in_staff("support@staff.example.com", StaffRole::Support)
        .await;
    app.signed_in_customer_on(app.browser_at("203.0.113.9"), "ada@example.com")
        .await;
    let stranger = app.browser_at("198.51.100.7");
    for _ in 0..3 {
        stranger
            .call(
                "sign-in",
                &[
                    ("email", "ada@example.com"),
                    ("password", "wrong horse battery"),
                ],
            )
            .await;
    }
    let page = view(
        &auditor,
        &[("customer", "ada@example.com"), ("outcome", "failure")],
    )
    .await;
    assert_eq!(actions(&page), ["signin.failed"; 3]);
    let page = view(
        &auditor,
        &[("network", "203.0.113.0/24"), ("action", "signin.")],
    )
    .await;
    assert_eq!(actions(&page), ["signin.succeeded"]);
    let page = view(&auditor, &[("actor", "cli"), ("action", "admin.created")]).await;
    assert_eq!(page["rows"].as_array().unwrap().len(), 2);
    // Bad filters name their field.
    for (field, value) in [
        ("network", "nonsense"),
        ("action", "DROP%"),
        ("actor", "nobody@example.com"),
        ("from", "monday"),
    ] {
        let form = [(format!("query[{field}]"), value)];
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        let res = auditor.call("console/audit", &form).await;
        assert_eq!(res.status(), 422, "{field}");
    }

    // Paging: every row once.
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_events")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let mut seen = 0;
    let mut before = String::new();
    loop {
        let page = view(&auditor, &[("before", &before)]).await;
        seen += page["rows"].as_array().unwrap().len() as i64;
        match page["next"].as_i64() {
            Some(id) => before = id.to_string(),
            None => break,
        }
    }
    assert!(seen >= total, "{seen} of {total}");

    // Export: the filtered view, as CSV and JSON, each export audited.
    let res = auditor
        .get("/admin/audit/export?format=csv&customer=ada%40example.com&outcome=failure")
        .await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("audit.csv"));
    let csv = res.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "id,at,actor,subject,action,outcome,ip,user_agent,detail"
    );
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(lines[1..]
        .iter()
        .all(|l| l.contains("signin.failed") && l.contains("198.51.100.7")));
    let res = auditor
        .get("/admin/audit/export?format=json&action=signin.succeeded")
        .await;
    assert_eq!(res.status(), 200);
    let rows: Vec<serde_json::Value> = res.json().await.unwrap();
    assert!(rows.iter().all(|r| r["action"] == "signin.succeeded"));
    let exports: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE action = 'audit.exported'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(exports, 2);

    // Support reads customers, not the trail.
    assert_eq!(
        support_staff
            .call("console/audit", &[("query[action]", "signin.")])
            .await
            .status(),
        403
    );
    assert_eq!(
        support_staff
            .get("/admin/audit/export?format=csv")
            .await
            .status(),
        403
    );
    assert_eq!(
        app.browser()
            .get("/admin/audit/export?format=csv")
            .await
            .status(),
        303
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn the_dashboard_counts_sign_ups_sign_ins_and_failures_per_day(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let auditor = app
        .signed_in_staff("auditor@staff.example.com", StaffRole::Auditor)
        .await;
    app.signed_in_customer("ada@example.com").await;
    app.signed_in_customer("grace@example.com").await;
    app.browser()
        .call(
            "sign-in",
            &[
                ("email", "ada@example.com"),
                ("password", "wrong horse battery"),
            ],
        )
        .await;
    let state = server::startup::app_state(app.db.clone(), &app.config).unwrap();
    app::domain::audit::chain::seal_all(&app.db, &state.audit_chain)
        .await
        .unwrap();
    app::domain::reports::rollup::run(&app.db).await.unwrap();
    app::domain::reports::rollup::measure_now(&app.db)
        .await
        .unwrap();
    // Counted once, however often the rollup runs.
    app::domain::reports::rollup::run(&app.db).await.unwrap();
    let res = auditor.call("console/dashboard", &[("days", "7")]).await;
    assert_eq!(res.status(), 200);
    let view: serde_json::Value = res.json().await.unwrap();
    let svg = |title: &str| -> String {
        view["charts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["title"] == title)
            .unwrap()["svg"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(svg("Sign-ups by method").contains("Sign-ups by method: 2 in 7 days"));
    let signins: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE action = 'signin.succeeded'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(signins >= 3);
    assert!(svg("Sign-ins by method").contains(&format!("Sign-ins by method: {signins} in 7 days")));
    assert!(svg("Failed and blocked sign-ins").contains(": 1 in 7 days"));
    assert_eq!(view["customers"], 2);
    assert_eq!(view["days"], 7);
}
