//! Runs the `server` binary itself on a test's database, as an operator would.

use sqlx::PgPool;

/// The master key the test app runs with ([7; 32]), as `CIAM_MASTER_KEY` spells it.
pub const MASTER_KEY: &str = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";

/// Runs `server` with `args` on the database of `db`, with the test app's master key.
pub async fn server_command(db: &PgPool, args: &[&str]) -> std::process::Output {
    server_command_with(db, args, &[("CIAM_MASTER_KEY", MASTER_KEY)], None).await
}

/// Runs `server` with `args` on the database of `db` and the environment `env` added, in the
/// directory `dir` (a fresh temporary one when `None`).
pub async fn server_command_with(
    db: &PgPool,
    args: &[&str],
    env: &[(&str, &str)],
    dir: Option<&std::path::Path>,
) -> std::process::Output {
    let url = database_url(db).await;
    let temporary = tempdir();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_server"));
    command
        .args(args)
        .env_remove("CIAM_MASTER_KEY")
        .env_remove("CIAM_MASTER_KEY_FILE")
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "error")
        .current_dir(dir.unwrap_or(&temporary));
    for (k, v) in env {
        command.env(k, v);
    }
    let output = command.output().unwrap();
    let _ = std::fs::remove_dir_all(&temporary);
    output
}

/// The address of the test's own database (the one `sqlx::test` made for it).
pub async fn database_url(db: &PgPool) -> String {
    let name: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(db)
        .await
        .unwrap();
    let mut url = url::Url::parse(
        &std::env::var("DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into()),
    )
    .unwrap();
    url.set_path(&format!("/{name}"));
    url.into()
}

/// A fresh, empty temporary directory.
pub fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ciam-cli-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
