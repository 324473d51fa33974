//! Costs on the sign-in path: argon2id hash and verify at the production parameters, and the
//! password policy check (zxcvbn).

use app::domain::{
    hashing::PasswordHasher,
    password::{NewPassword, Password},
};
use criterion::{criterion_group, criterion_main, Criterion};

fn password_costs(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let hasher = PasswordHasher::new(1).expect("hasher");
    let new = NewPassword::parse(
        "violet tractor sings at dawn".into(),
        &[],
        &Default::default(),
    )
    .expect("policy");
    let hash = runtime.block_on(hasher.hash(&new)).expect("hash");
    let attempt = Password::new("violet tractor sings at dawn".into());

    let mut group = c.benchmark_group("argon2id m=19456 t=2 p=1");
    group.sample_size(20);
    group.bench_function("verify", |b| {
        b.iter(|| {
            runtime
                .block_on(hasher.verify(&attempt, Some(&hash)))
                .expect("verify")
        })
    });
    group.bench_function("hash", |b| {
        b.iter(|| runtime.block_on(hasher.hash(&new)).expect("hash"))
    });
    group.finish();

    c.bench_function("password policy (zxcvbn)", |b| {
        b.iter(|| {
            NewPassword::parse(
                "violet tractor sings at dawn".into(),
                &["ada@example.com"],
                &Default::default(),
            )
        })
    });
}

criterion_group!(benches, password_costs);
criterion_main!(benches);
