//! Brands from the console: an app's own brand dresses its sign-in flow and the mail sent
//! during it, while every other page and mail keeps the default; bad fields are refused one
//! by one and change nothing; the logo is checked by its bytes (SVG and oversized files
//! refused) and served from the site; the preview may be framed by the console only; an app's
//! brand dropped brings the default back. Every change is audited with its before and after.

use crate::support::{
    oidc::{authorize_url, location, register},
    Browser, TestApp,
};
use app::domain::{oidc::clients::ClientType, staff::StaffRole};
use reqwest::header;
use sqlx::PgPool;

/// The brand form with `changes` over sensible values.
fn brand_form<'a>(app: &'a str, changes: &[(&'a str, &'a str)]) -> Vec<(String, String)> {
    let mut fields = vec![
        ("product_name", "Acme Travel"),
        ("primary_color", "#aa0000"),
        ("accent_color", "#00aa00"),
        ("background_color", "#fdf6e3"),
        ("text_color", "#222222"),
        ("font", "serif"),
        ("css_vars", "--radius: 2px"),
        ("signin_heading", "Welcome to Acme Travel"),
        ("signin_intro", "One account for every trip."),
        ("register_heading", "Join Acme Travel"),
        ("mail_sender_name", "Acme Travel"),
        ("mail_footer", "Acme Travel, 1 Harbour Road"),
    ];
    for (name, value) in changes {
        fields.retain(|(n, _)| n != name);
        fields.push((name, value));
    }
    let mut form: Vec<(String, String)> = fields
        .into_iter()
        .map(|(n, v)| (format!("brand[{n}]"), v.to_owned()))
        .collect();
    form.push(("app".into(), app.into()));
    form.push(("confirm".into(), "yes".into()));
    form
}

async fn save(admin: &Browser, form: &[(String, String)]) -> reqwest::Response {
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    admin.call("console/brand/save", &form).await
}

async fn branding(browser: &Browser) -> serde_json::Value {
    let res = browser.call("branding", &[]).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn brand_audits(app: &TestApp, action: &str) -> Vec<serde_json::Value> {
    sqlx::query_scalar("SELECT detail FROM audit_events WHERE action = $1 ORDER BY id")
        .bind(action)
        .fetch_all(&app.db)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn an_apps_brand_dresses_its_flow_and_its_mail_and_the_default_stays_elsewhere(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let admin = app.signed_in_admin("owner@staff.example.com").await;
    let partner = register(&app, ClientType::Confidential, false).await;
    let res = save(&admin, &brand_form(&partner.client_id, &[])).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());

    // The change is audited with the staff member, and each field's before and after.
    let audits = brand_audits(&app, "brand.changed").await;
    assert_eq!(audits.len(), 1);
    assert_eq!(audits[0]["brand"], partner.client_id.as_str());
    assert_eq!(audits[0]["changes"]["product_name"]["from"], "Keyhaven");
    assert_eq!(audits[0]["changes"]["product_name"]["to"], "Acme Travel");
    assert_eq!(audits[0]["changes"]["css_vars"]["to"]["--radius"], "2px");

    // A browser sent by the app to sign in sees the app's brand on the sign-in page.
    let traveller = app.browser();
    let res = traveller.get(&authorize_url(&partner, &[])).await;
    assert_eq!(location(&res), "/signin");
    let brand = branding(&traveller).await;
    assert_eq!(brand["product_name"], "Acme Travel");
    assert_eq!(brand["signin_heading"], "Welcome to Acme Travel");
    let page = traveller.get("/signin").await.text().await.unwrap();
    assert!(page.contains("Welcome to Acme Travel"), "{page}");
    assert!(page.contains("One account for every trip."));
    let css_path = brand["css_path"].as_str().unwrap().to_owned();
    assert!(page.contains(&css_path.replace('&', "&amp;")) || page.contains(&css_path));
    let css = traveller.get(&css_path).await;
    assert_eq!(css.status(), 200);
    let css = css.text().await.unwrap();
    assert!(css.contains("--brand-primary: #aa0000;"), "{css}");
    assert!(css.contains("--background: #fdf6e3;"));
    assert!(css.contains("--radius: 2px;"));
    assert!(css.contains("Georgia"));

    // The mail of that flow wears the brand: subject, sender name and closing.
    traveller
        .register("grace@example.com", "Grace Hopper")
        .await;
    let mail = app
        .mail
        .wait_for(
            "grace@example.com",
            "Confirm your email address for Acme Travel",
        )
        .await;
    assert!(mail.from.contains("Acme Travel"), "{}", mail.from);
    assert!(
        mail.body.contains("Acme Travel, 1 Harbour Road"),
        "{}",
        mail.body
    );

    // A browser in no app's flow keeps the default, in its pages and its mail.
    let walker = app.browser();
    assert_eq!(branding(&walker).await["product_name"], "Keyhaven");
    let page = walker.get("/signin").await.text().await.unwrap();
    assert!(!page.contains("Welcome to Acme Travel"));
    walker.register("ada@example.com", "Grace Hopper").await;
    let mail = app
        .mail
        .wait_for("ada@example.com", "Confirm your email address for Keyhaven")
        .await;
    assert!(!mail.from.contains("Acme"), "{}", mail.from);
    assert!(!mail.body.contains("Harbour Road"));

    // Dropping the app's brand brings the default back to its flow.
    let res = admin
        .call(
            "console/brand/reset",
            &[("app", &partner.client_id), ("confirm", "yes")],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(branding(&traveller).await["product_name"], "Keyhaven");
    assert_eq!(brand_audits(&app, "brand.reset").await.len(), 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn saving_the_same_brand_again_writes_and_audits_nothing(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let admin = app.signed_in_admin("owner@staff.example.com").await;
    let form = brand_form("", &[]);
    let res = save(&admin, &form).await;
    assert_eq!(res.json::<usize>().await.unwrap(), 12);
    let res = save(&admin, &form).await;
    assert_eq!(res.json::<usize>().await.unwrap(), 0);
    assert_eq!(brand_audits(&app, "brand.changed").await.len(), 1);
    // The default brand changed: a browser in no flow wears it.
    assert_eq!(
        branding(&app.browser()).await["product_name"],
        "Acme Travel"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_fields_are_refused_one_by_one_and_change_nothing(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let admin = app.signed_in_admin("owner@staff.example.com").await;
    let partner = register(&app, ClientType::Confidential, false).await;
    let cases: &[(&str, &str, &str)] = &[
        ("primary_color", "red", "primary_color"),
        ("text_color", "#12345", "text_color"),
        // Too faint to read: white on pale yellow buttons, grey text on white cards.
        ("primary_color", "#ffe066", "primary_color"),
        ("text_color", "#aaaaaa", "text_color"),
        ("font", "comic-sans", "font"),
        (
            "css_vars",
            "--logo: url(https://evil.example/x.png)",
            "css_vars",
        ),
        ("css_vars", "--x: red; } body { display: none", "css_vars"),
        ("css_vars", "--brand-primary: #000000", "css_vars"),
        (
            "mail_sender_name",
            "Evil <evil@example.com>",
            "mail_sender_name",
        ),
        ("mail_sender_name", "", "mail_sender_name"),
        ("product_name", "", "product_name"),
        ("signin_heading", &"x".repeat(121), "signin_heading"),
    ];
    for (field, value, named) in cases {
        let res = save(&admin, &brand_form(&partner.client_id, &[(field, value)])).await;
        assert_eq!(res.status(), 422, "{field}={value}");
        let error = crate::support::error_of(res).await;
        assert_eq!(error["Field"]["field"], *named, "{field}={value}: {error}");
    }
    // An app that does not exist, and a change without the box ticked.
    let res = save(&admin, &brand_form("no-such-app", &[])).await;
    assert_eq!(res.status(), 422);
    let mut unconfirmed = brand_form(&partner.client_id, &[]);
    unconfirmed.retain(|(k, _)| k != "confirm");
    assert_eq!(save(&admin, &unconfirmed).await.status(), 422);

    let brands: i64 = sqlx::query_scalar("SELECT count(*) FROM brands")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(brands, 1, "only the default brand");
    assert!(brand_audits(&app, "brand.changed").await.is_empty());
}

/// A multipart upload of `bytes` as the logo of `app`.
async fn upload(browser: &Browser, app: &str, bytes: &[u8], confirm: bool) -> reqwest::Response {
    let mut fields = vec![("app", app)];
    if confirm {
        fields.push(("confirm", "yes"));
    }
    browser
        .post_multipart(
            "/admin/branding/logo",
            &fields,
            ("logo", "logo.png", "image/png", bytes),
        )
        .await
}

fn png(size: usize) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.resize(size, 7);
    bytes
}

#[sqlx::test(migrations = "../migrations")]
async fn a_logo_is_checked_by_its_bytes_and_served_from_the_site(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let admin = app.signed_in_admin("owner@staff.example.com").await;
    let support_staff = app
        .signed_in_staff("support@staff.example.com", StaffRole::Support)
        .await;
    let partner = register(&app, ClientType::Confidential, false).await;
    let id = partner.client_id.as_str();
    let outcome = |res: &reqwest::Response| {
        assert_eq!(res.status(), 303);
        location(res)
    };

    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
    assert!(outcome(&upload(&admin, id, svg, true).await).ends_with("logo=not_an_image"));
    let res = upload(&admin, id, &png(260 * 1024), true).await;
    assert!(outcome(&res).ends_with("logo=too_large"));
    let res = upload(&admin, id, &png(600 * 1024), true).await;
    assert!(res.status().is_client_error(), "{}", res.status());
    assert!(outcome(&upload(&admin, id, &png(2048), false).await).ends_with("logo=confirm"));
    assert_eq!(
        upload(&support_staff, id, &png(2048), true).await.status(),
        403
    );
    assert_eq!(
        upload(&app.browser(), id, &png(2048), true).await.status(),
        303
    );
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM brands WHERE logo IS NOT NULL")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(stored, 0, "nothing refused was stored");

    assert!(outcome(&upload(&admin, id, &png(2048), true).await).ends_with("logo=saved"));
    let view: serde_json::Value = admin
        .call("console/brand", &[("app", id)])
        .await
        .json()
        .await
        .unwrap();
    let logo_path = view["logo_path"].as_str().unwrap();
    assert!(logo_path.starts_with("/brand/"), "{logo_path}");
    let res = app.browser().get(logo_path).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()[header::CONTENT_TYPE], "image/png");
    assert_eq!(res.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(res.bytes().await.unwrap().to_vec(), png(2048));
    let audits = brand_audits(&app, "brand.logo_changed").await;
    assert_eq!(audits.len(), 1);
    assert_eq!(audits[0]["type"], "image/png");
    // The app got a brand of its own (a copy of the default) to hold the logo.
    let own = app.browser();
    own.get(&authorize_url(&partner, &[])).await;
    assert_eq!(branding(&own).await["logo_path"], logo_path);
    assert_eq!(branding(&app.browser()).await["logo_path"], "/logo.svg");
}

#[sqlx::test(migrations = "../migrations")]
async fn the_preview_draws_unsaved_values_for_staff_and_only_the_console_may_frame_it(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let admin = app.signed_in_admin("owner@staff.example.com").await;
    let query = "app=&product_name=%3Cscript%3EPreview+Co&primary_color=%23123456\
                 &accent_color=%23654321&background_color=%23ffffff&text_color=%23000000\
                 &font=mono&mail_sender_name=Preview&signin_heading=Hello+there";
    let res = admin.get(&format!("/admin/branding/preview?{query}")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()[header::X_FRAME_OPTIONS], "SAMEORIGIN");
    let csp = res.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("frame-ancestors 'self'"), "{csp}");
    let html = res.text().await.unwrap();
    assert!(html.contains("&lt;script&gt;Preview Co"), "{html}");
    assert!(!html.contains("<script>"));
    assert!(html.contains("Hello there"));
    let css = admin
        .get(&format!("/admin/branding/preview.css?{query}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(css.contains("--brand-primary: #123456;"), "{css}");
    // Nothing was saved.
    assert_eq!(branding(&admin).await["product_name"], "Keyhaven");
    // A value the form would refuse is not drawn.
    let res = admin
        .get(
            "/admin/branding/preview?primary_color=red&font=mono&product_name=X&mail_sender_name=X",
        )
        .await;
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("The preview waits for a valid form"));

    // Customers get nothing; every other page may be framed by nobody.
    let customer = app.signed_in_customer("grace@example.com").await;
    let res = customer
        .get(&format!("/admin/branding/preview?{query}"))
        .await;
    assert_eq!(res.status(), 403);
    let res = admin.get("/signin").await;
    assert_eq!(res.headers()[header::X_FRAME_OPTIONS], "DENY");
}
