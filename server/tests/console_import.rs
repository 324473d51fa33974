//! Bulk import: every row checked first (a dry run writes nothing), a failing row skipped and
//! reported by its line, hashes of four schemes accepted and each customer signing in with
//! their old password, which is then stored as argon2id; the same file twice adds nobody.

mod support;

use app::domain::{
    audit::Actor,
    customers::import::{self, Format},
};
use scrypt::password_hash::{PasswordHasher, SaltString};
use sqlx::PgPool;
use support::TestApp;

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

    let users = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM users")
            .fetch_one(&app.db)
            .await
            .unwrap()
    };
    let before = users().await;
    let dry = import::import(&state, &csv, Format::Csv, true, Actor::Cli, |_, _| {})
        .await
        .unwrap();
    assert_eq!(users().await, before, "a dry run writes nothing");
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
    assert_eq!(users().await, before + 5);

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
    assert_eq!(users().await, before + 5);
    let audited: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE action = 'customers.imported'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(audited, 3);
}
