//! Costs on the OpenID provider's token paths: signing an ID token (RS256, the default, and
//! ES256), signing an RFC 9068 access token (ES256), and verifying one (userinfo and
//! introspection do this on every request).

use app::domain::oidc::keys::{Alg, KeyRing};
use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::json;

const ISSUER: &str = "https://id.example.com";

fn token_costs(c: &mut Criterion) {
    let ring = KeyRing::ephemeral().expect("keys");
    let id_claims = json!({
        "iss": ISSUER, "sub": "3f1c7a52-7a0e-4f8e-9d7e-1b2c3d4e5f60", "aud": "client",
        "azp": "client", "iat": 1_800_000_000, "exp": 4_000_000_000u64,
        "auth_time": 1_800_000_000, "nonce": "n-0S6_WzA2Mj", "sid": "Tb7d5bPp8S4",
        "email": "ada@example.com", "email_verified": true, "name": "Ada Lovelace",
    });
    let access_claims = json!({
        "iss": ISSUER, "sub": "3f1c7a52-7a0e-4f8e-9d7e-1b2c3d4e5f60", "aud": ISSUER,
        "client_id": "client", "scope": "openid email profile", "iat": 1_800_000_000,
        "exp": 4_000_000_000u64, "jti": "0b8e1d3c-52a4-4c39-9a0e-7f5a3d2c1b00",
    });
    c.bench_function("ID token RS256 sign", |b| {
        b.iter(|| ring.sign(Alg::Rs256, &id_claims).expect("sign"))
    });
    c.bench_function("ID token ES256 sign", |b| {
        b.iter(|| ring.sign(Alg::Es256, &id_claims).expect("sign"))
    });
    c.bench_function("access token ES256 sign", |b| {
        b.iter(|| ring.sign_access_token(&access_claims).expect("sign"))
    });
    let token = ring.sign_access_token(&access_claims).expect("sign");
    c.bench_function("access token ES256 verify", |b| {
        b.iter(|| ring.verify_access_token(&token, ISSUER).expect("valid"))
    });
}

criterion_group!(benches, token_costs);
criterion_main!(benches);
