//! The risk engine's cost per sign-in attempt: scoring alone (a pure function), and the whole
//! evaluation against a real Postgres (the account's history and the failure counters, read by
//! the engine itself; the sign-in stores the assessment in its own transaction), on a database
//! of its own on the server `DATABASE_URL` names.

use app::{
    domain::{
        client::ClientInfo,
        hashing::PasswordHasher,
        password::Password,
        risk::{self, score},
    },
    state::{AppState, Settings},
};
use criterion::{criterion_group, criterion_main, Criterion};
use sqlx::{postgres::PgPoolOptions, Connection, PgConnection};
use uuid::Uuid;

const DATABASE: &str = "ciam_bench_risk";

async fn fresh_database() -> sqlx::PgPool {
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres:postgres@127.0.0.1:5432/postgres".into());
    let mut admin = PgConnection::connect(&url)
        .await
        .expect("Postgres at DATABASE_URL");
    sqlx::query(&format!("DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .expect("drop");
    sqlx::query(&format!("CREATE DATABASE {DATABASE}"))
        .execute(&mut admin)
        .await
        .expect("create");
    let mut own = url::Url::parse(&url).expect("DATABASE_URL");
    own.set_path(DATABASE);
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect(own.as_str())
        .await
        .expect("connect");
    sqlx::migrate!("../migrations")
        .run(&pool)
        .await
        .expect("migrate");
    pool
}

fn risk_costs(c: &mut Criterion) {
    let signals = score::Signals {
        history: true,
        new_device: true,
        new_network: true,
        new_country: Some("JP".into()),
        account_failures: 4,
        ..Default::default()
    };
    c.bench_function("risk: score (pure)", |b| {
        b.iter(|| score::assess(&signals, score::Thresholds::default()))
    });

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let pool = runtime.block_on(fresh_database());
    let state = AppState::new(
        pool,
        Settings::new("http://localhost:3000".into()),
        PasswordHasher::new(1).expect("hasher"),
        &[7; 32],
    )
    .expect("state");
    let user = Uuid::new_v4();
    runtime.block_on(async {
        sqlx::query(
            "INSERT INTO users (id, email, display_name) VALUES ($1, 'ada@example.com', 'Ada')",
        )
        .bind(user)
        .execute(&state.db)
        .await
        .expect("user");
    });
    let client = ClientInfo {
        ip: Some("198.51.100.10".into()),
        user_agent: Some("Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0".into()),
        device: Some("a".repeat(43)),
        app: None,
        reading: Default::default(),
    };
    let password = Password::new("violet tractor sings at dawn".into());
    let mut group = c.benchmark_group("risk: weigh one sign-in (Postgres)");
    group.sample_size(50);
    group.bench_function("with a password", |b| {
        b.iter(|| {
            runtime
                .block_on(risk::weigh(
                    &state,
                    &client,
                    user,
                    "ada@example.com",
                    Some(&password),
                    None,
                    score::Thresholds::default(),
                ))
                .expect("weigh")
        })
    });
    group.finish();
}

criterion_group!(benches, risk_costs);
criterion_main!(benches);
