//! Bulk import: every row checked first (a dry run writes nothing), a failing row skipped and
//! reported by its line, hashes of four schemes accepted and each customer signing in with
//! their old password, which is then stored as argon2id; the same file twice adds nobody. From
//! the console: a file uploaded by staff allowed to import, run by the worker as a dry run or
//! the real import, its progress and report kept, the file itself gone once it ends.

use crate::support::{oidc::location, Browser, TestApp};
use app::domain::staff::StaffRole;
use app::domain::{
    audit::Actor,
    customers::import::{self, Format},
};
use scrypt::password_hash::{PasswordHasher, SaltString};
use sqlx::PgPool;

const PASSWORD: &str = "violet tractor sings at dawn";

fn hashes() -> [(&'static str, String); 3] {
    let salt = SaltString::from_b64("c2FsdHNhbHRzYWx0c2FsdA").unwrap();
    let scrypt = scrypt::Scrypt
        .hash_password_customized(
            PASSWORD.as_bytes(),
            None,
            None,
            scrypt::Params::new(4, 8, 1, 32).unwrap(),
            &salt,
        )
        .unwrap()
        .to_string();
    let pbkdf2 = pbkdf2::Pbkdf2
        .hash_password_customized(
            PASSWORD.as_bytes(),
            Some(pbkdf2::Algorithm::Pbkdf2Sha512.ident()),
            None,
            pbkdf2::Params {
                rounds: 1000,
                output_length: 64,
            },
            &salt,
        )
        .unwrap()
        .to_string();
    [
        ("bcrypt@example.com", bcrypt::hash(PASSWORD, 4).unwrap()),
        ("scrypt@example.com", scrypt),
        ("pbkdf2@example.com", pbkdf2),
    ]
}

#[sqlx::test(migrations = "../migrations")]
async fn an_import_checks_every_row_skips_the_bad_ones_and_rehashes_at_sign_in(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.signed_in_customer("taken@example.com").await;
    let state = server::startup::app_state(app.db.clone(), &app.config).unwrap();
    let argon = state
        .passwords
        .hash(
            &app::domain::password::NewPassword::parse(PASSWORD.into(), &[], &Default::default())
                .unwrap(),
        )
        .await
        .unwrap();
    let mut csv = String::from("email,display_name,email_verified,phone,password_hash\n");
    for (email, hash) in hashes() {
        csv.push_str(&format!("{email},Imported,true,,\"{hash}\"\n"));
    }
    csv.push_str(&format!(
        "argon@example.com,Imported,true,+442071838750,\"{argon}\"\n"
    ));
    csv.push_str("nopassword@example.com,No Password,false,,\n");
    csv.push_str("bad address,Someone,true,,\n"); // line 7
    csv.push_str("taken@example.com,Someone,true,,\n"); // line 8
    csv.push_str("BCRYPT@example.com,Twice,true,,\n"); // line 9
    csv.push_str("weird@example.com,Weird,true,,$md5$abc\n"); // line 10

    let before = count_users(&app).await;
    let dry = import::import(&state, &csv, Format::Csv, true, Actor::Cli, |_, _| {})
        .await
        .unwrap();
    assert_eq!(count_users(&app).await, before, "a dry run writes nothing");
    let lines: Vec<usize> = dry.errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [7, 8, 9, 10], "{:?}", dry.errors);
    assert_eq!(dry.rows, 9);

    let report = import::import(&state, &csv, Format::Csv, false, Actor::Cli, |_, _| {})
        .await
        .unwrap();
    assert_eq!(report.imported, 5, "{:?}", report.errors);
    assert_eq!(
        report.errors.iter().map(|e| e.line).collect::<Vec<_>>(),
        [7, 8, 9, 10]
    );
    assert_eq!(count_users(&app).await, before + 5);

    for (email, _) in hashes()
        .iter()
        .chain([("argon@example.com", String::new())].iter())
    {
        let res = app
            .browser()
            .call("sign-in", &[("email", email), ("password", PASSWORD)])
            .await;
        assert_eq!(res.status(), 200, "{email}: {}", res.text().await.unwrap());
        let stored: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE email = $1")
            .bind(email)
            .fetch_one(&app.db)
            .await
            .unwrap();
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{email}: {stored}"
        );
    }
    let res = app
        .browser()
        .call(
            "sign-in",
            &[
                ("email", "scrypt@example.com"),
                ("password", "not the password"),
            ],
        )
        .await;
    assert_eq!(res.status(), 401);

    // The same file again: everyone is there already.
    let again = import::import(&state, &csv, Format::Csv, false, Actor::Cli, |_, _| {})
        .await
        .unwrap();
    assert_eq!(again.imported, 0);
    assert_eq!(count_users(&app).await, before + 5);
    let audited: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE action = 'customers.imported'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(audited, 3);
}

/// How many accounts there are.
async fn count_users(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

/// Uploads `file` to the console's import route.
async fn upload(browser: &Browser, name: &str, file: &[u8], mode: &str, confirm: bool) -> String {
    let mut fields = vec![("format", "auto"), ("mode", mode)];
    if confirm {
        fields.push(("confirm", "yes"));
    }
    let res = browser
        .post_multipart("/admin/import", &fields, ("file", name, "text/csv", file))
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    location(&res)
}

/// The import the console answered `location` for, once the worker has finished it.
async fn finished(app: &TestApp, admin: &Browser, location: &str) -> serde_json::Value {
    let id = location
        .strip_prefix("/admin/import?job=")
        .unwrap_or_else(|| panic!("{location}"));
    for _ in 0..300 {
        let page: serde_json::Value = admin
            .call("console/imports", &[("job", id)])
            .await
            .json()
            .await
            .unwrap();
        if page["chosen"]["finished"] == true {
            let body: Option<String> =
                sqlx::query_scalar("SELECT body FROM customer_imports WHERE id = $1")
                    .bind(id.parse::<i64>().unwrap())
                    .fetch_one(&app.db)
                    .await
                    .unwrap();
            assert!(body.is_none(), "the file is gone once the import ends");
            return page;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("import {id} did not finish");
}

#[sqlx::test(migrations = "../migrations")]
async fn the_console_checks_a_file_first_then_imports_it_and_reports_each_skipped_line(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.signed_in_customer("taken@example.com").await;
    let admin = app.signed_in_admin("owner@staff.example.com").await;
    let csv = format!(
        "email,display_name,email_verified,phone,password_hash\n\
         ada@example.com,Ada,true,,\n\
         bad address,Someone,true,,\n\
         taken@example.com,Someone,true,,\n\
         grace@example.com,Grace,true,+442071838751,\"{}\"\n\
         ADA@example.com,Ada again,false,,\n",
        bcrypt::hash(PASSWORD, 4).unwrap()
    );
    let before = count_users(&app).await;

    let dry = finished(
        &app,
        &admin,
        &upload(&admin, "people.csv", csv.as_bytes(), "dry_run", true).await,
    )
    .await;
    let chosen = &dry["chosen"];
    assert_eq!(chosen["dry_run"], true);
    assert_eq!(chosen["state"], "done");
    assert_eq!(chosen["total"], 5);
    assert_eq!(chosen["skipped"], 3);
    assert_eq!(chosen["imported"], 0);
    let lines: Vec<u64> = dry["skipped_lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [3, 4, 6], "{dry}");
    assert_eq!(count_users(&app).await, before, "a dry run writes nothing");
    // The page, as the browser gets it without JavaScript, says the same.
    let dry_id = dry["chosen"]["id"].as_i64().unwrap();
    let page = admin.get(&format!("/admin/import?job={dry_id}")).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Dry run finished: 2 of 5 rows would be imported, 3 skipped."),
        "{html}"
    );
    assert!(html.contains("Skipped lines") && html.contains("people.csv"));

    let real = finished(
        &app,
        &admin,
        &upload(&admin, "people.csv", csv.as_bytes(), "import", true).await,
    )
    .await;
    assert_eq!(real["chosen"]["imported"], 2, "{real}");
    assert_eq!(real["chosen"]["skipped"], 3);
    assert_eq!(count_users(&app).await, before + 2);
    let res = app
        .browser()
        .call(
            "sign-in",
            &[("email", "grace@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 200, "the imported hash signs Grace in");
    assert_eq!(real["recent"].as_array().unwrap().len(), 2);
    assert_eq!(real["recent"][0]["file_name"], "people.csv");
    assert_eq!(real["recent"][0]["started_by"], "owner@staff.example.com");

    // Both the upload and the import are audited with the staff member as actor.
    let staff_id: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM users WHERE email = 'owner@staff.example.com'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    for action in ["customers.import_queued", "customers.imported"] {
        let actors: Vec<Option<uuid::Uuid>> =
            sqlx::query_scalar("SELECT actor_id FROM audit_events WHERE action = $1")
                .bind(action)
                .fetch_all(&app.db)
                .await
                .unwrap();
        assert_eq!(actors, [Some(staff_id), Some(staff_id)], "{action}");
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn an_upload_without_the_role_the_confirmation_or_a_readable_file_queues_nothing(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let admin = app.signed_in_admin("owner@staff.example.com").await;
    let csv = b"email,display_name\nada@example.com,Ada\n";
    for role in [StaffRole::Support, StaffRole::Auditor] {
        let staff_member = app
            .signed_in_staff(&format!("{role}@staff.example.com"), role)
            .await;
        let res = staff_member
            .post_multipart(
                "/admin/import",
                &[("mode", "import"), ("confirm", "yes")],
                ("file", "people.csv", "text/csv", csv),
            )
            .await;
        assert_eq!(res.status(), 403, "{role}");
        let res = staff_member.call("console/imports", &[]).await;
        assert_eq!(res.status(), 403, "{role}");
    }
    let res = app
        .browser()
        .post_multipart(
            "/admin/import",
            &[("mode", "import"), ("confirm", "yes")],
            ("file", "people.csv", "text/csv", csv),
        )
        .await;
    assert_eq!(location(&res), "/signin");

    for (file, mode, confirm, answer) in [
        (&csv[..], "import", false, "confirm"),
        (&b""[..], "import", true, "empty"),
        (&b"  \n"[..], "dry_run", true, "empty"),
        (
            &b"email\n\xff\xfe@example.com\n"[..],
            "import",
            true,
            "not_text",
        ),
        (&csv[..], "delete everyone", true, "mode"),
    ] {
        assert_eq!(
            upload(&admin, "people.csv", file, mode, confirm).await,
            format!("/admin/import?error={answer}")
        );
    }
    let queued: i64 = sqlx::query_scalar("SELECT count(*) FROM customer_imports")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(queued, 0, "nothing refused was queued");
}

#[sqlx::test(migrations = "../migrations")]
async fn an_import_a_dead_node_left_running_is_failed_and_its_file_cleared(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let state = server::startup::app_state(app.db.clone(), &app.config).unwrap();
    let left = |minutes: i32| {
        sqlx::query_scalar::<_, i64>(
            "INSERT INTO customer_imports (file_name, format, dry_run, body, state, updated_at)
             VALUES ('left.csv', 'csv', false, 'email,display_name\nada@example.com,Ada\n',
                     'running', now() - make_interval(mins => $1))
             RETURNING id",
        )
        .bind(minutes)
        .fetch_one(&app.db)
    };
    let stale = left(11).await.unwrap();
    let moving = left(1).await.unwrap();

    let found = app::domain::customers::import_jobs::run_next(&state)
        .await
        .unwrap();
    assert!(!found, "nothing was waiting");
    let row = |id: i64| {
        sqlx::query_as::<_, (String, Option<String>, Option<String>)>(
            "SELECT state, body, failure FROM customer_imports WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&app.db)
    };
    let (state_of_stale, body, failure) = row(stale).await.unwrap();
    assert_eq!(state_of_stale, "failed");
    assert_eq!(body, None, "the file is gone");
    assert!(failure.unwrap().contains("interrupted"));
    let (state_of_moving, body, _) = row(moving).await.unwrap();
    assert_eq!(
        state_of_moving, "running",
        "an import still moving is left alone"
    );
    assert!(body.is_some());
}
