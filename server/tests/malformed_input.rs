//! Malformed input gets a 4xx, never a 500 and never a hang: NUL and control characters are
//! refused at the boundary, and a seeded fuzzer throws random bytes, repeated parameters, wrong
//! content types, huge values and bad `Authorization` and `DPoP` headers at every public
//! endpoint.

use std::time::Duration;

use crate::support::TestApp;
use rand::{rngs::StdRng, seq::SliceRandom, Rng, SeedableRng};
use reqwest::{header, Client, Method};
use sqlx::PgPool;

/// Every server function the site's pages call.
const SERVER_FUNCTIONS: &[&str] = &[
    "me",
    "update-profile",
    "postal-address",
    "update-postal-address",
    "clear-postal-address",
    "change-email",
    "confirm-email-change",
    "undo-email-change",
    "identities",
    "identities/unlink",
    "identities/pending",
    "identities/confirm",
    "identities/discard",
    "register",
    "registration/purposes",
    "signin/consent/question",
    "signin/consent/accept",
    "signin/consent/decline",
    "my-data/export",
    "my-data/export/request",
    "account/deletion/grace",
    "account/deletion/request",
    "signin/deletion/question",
    "signin/deletion/cancel",
    "signin/deletion/keep",
    "password-strength",
    "verify-email",
    "resend-verification",
    "branding",
    "oauth/consent",
    "connected-apps",
    "connected-apps/disconnect",
    "consents",
    "consents/choose",
    "password/change",
    "password/set",
    "password/remove",
    "sign-ins",
    "sign-ins/end",
    "sign-ins/end-others",
    "timeline",
    "timeline/not-me",
    "email-sign-in",
    "email-sign-in/code",
    "email-sign-in/describe",
    "email-sign-in/link",
    "sign-in-options",
    "sign-in",
    "sign-out",
    "forgot-password",
    "reset-password",
    "passkeys/sign-in/start",
    "passkeys/sign-in/finish",
    "passkeys/sign-up/start",
    "passkeys/sign-up/finish",
    "passkeys/add/start",
    "passkeys/add/finish",
    "passkeys/list",
    "passkeys/rename",
    "passkeys/remove",
    "sms-sign-in",
    "sms-sign-in/code",
    "phone",
    "phone/pending",
    "phone/confirm",
    "phone/remove",
    "admin/sms-outbox",
    "admin/outbox",
];

/// The other public routes: the provider's endpoints, social sign-in, probes and pages.
const ROUTES: &[&str] = &[
    "/oauth2/authorize",
    "/oauth2/authorize/continue",
    "/oauth2/consent",
    "/oauth2/logout",
    "/signed-out",
    "/oauth2/logout/confirm",
    "/oauth2/token",
    "/oauth2/userinfo",
    "/oauth2/revoke",
    "/oauth2/introspect",
    "/oauth2/par",
    "/.well-known/openid-configuration",
    "/.well-known/oauth-authorization-server",
    "/.well-known/jwks.json",
    "/signin/social/upstream",
    "/signin/social/upstream/callback",
    "/signin/social/upstream/link",
    "/healthz",
    "/readyz",
    "/brand/00000000-0000-0000-0000-000000000000/style.css",
    "/brand/not-a-brand/logo",
    "/admin/branding/preview",
    "/admin/branding/preview.css",
    "/admin/branding/logo",
    "/",
    "/signin",
    "/register",
    "/verify-email",
    "/reset-password",
    "/signin/email",
    "/signin/consent",
    "/profile/data",
    "/profile/data/download",
    "/profile/delete",
    "/signin/deletion",
    "/profile",
    "/oauth2/consent",
    "/oauth2/error",
];

/// Parameter names the endpoints read, so random values reach the code behind them.
const NAMES: &[&str] = &[
    "client_id",
    "client_secret",
    "grant_type",
    "code",
    "redirect_uri",
    "code_verifier",
    "refresh_token",
    "scope",
    "token",
    "step",
    "confirm",
    "email",
    "password",
    "display_name",
    "phone",
    "credential",
    "name",
    "id",
    "provider",
    "response_type",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "max_age",
    "id_token_hint",
    "login_hint",
    "request_uri",
    "request",
    "decision",
    "post_logout_redirect_uri",
    "client_assertion",
    "client_assertion_type",
    "access_token",
    "consent[terms]",
    "consent",
    "format",
];

fn random_text(rng: &mut StdRng) -> String {
    let pieces: &[&str] = &[
        "\0",
        "%00",
        "\u{1}",
        "\u{7f}",
        "\n",
        "\r\n",
        "'",
        "\"",
        "<script>",
        "../",
        "é",
        "\u{202e}",
        "😀",
        "a@b.c",
        "https://evil.example/",
        "urn:ietf:params:oauth:request_uri:x",
        "authorization_code",
        "refresh_token",
        "client_credentials",
        "S256",
        "openid",
        "-1",
        "99999999999999999999",
        "eyJhbGciOiJub25lIn0.e30.",
        " ",
        "&",
        "=",
    ];
    let mut out = String::new();
    for _ in 0..rng.gen_range(0..6) {
        if rng.gen_bool(0.5) {
            out.push_str(pieces.choose(rng).unwrap());
        } else {
            let len = rng.gen_range(1..24);
            out.extend((0..len).map(|_| rng.gen_range(0x20u8..0x7f) as char));
        }
    }
    if rng.gen_ratio(1, 40) {
        out.push_str(&"x".repeat(rng.gen_range(1_000..70_000)));
    }
    out
}

fn random_form(rng: &mut StdRng) -> String {
    let mut pairs = url::form_urlencoded::Serializer::new(String::new());
    for _ in 0..rng.gen_range(0..8) {
        let name = if rng.gen_bool(0.8) {
            NAMES.choose(rng).unwrap().to_string()
        } else {
            random_text(rng)
        };
        pairs.append_pair(&name, &random_text(rng));
        if rng.gen_ratio(1, 6) {
            // The same parameter again.
            pairs.append_pair(&name, &random_text(rng));
        }
    }
    pairs.finish()
}

fn random_bytes(rng: &mut StdRng) -> Vec<u8> {
    let len = rng.gen_range(0..512);
    (0..len).map(|_| rng.gen()).collect()
}

fn random_header_value(rng: &mut StdRng) -> String {
    let text: String = random_text(rng)
        .chars()
        .filter(|c| (' '..='~').contains(c))
        .take(2000)
        .collect();
    text
}

/// One random request; returns what was sent (for the failure message) and the answer.
async fn random_request(
    rng: &mut StdRng,
    client: &Client,
    base: &str,
    origin: &str,
) -> (String, Result<reqwest::Response, reqwest::Error>) {
    let (method, path) = if rng.gen_bool(0.5) {
        (
            Method::POST,
            format!("/api/{}", SERVER_FUNCTIONS.choose(rng).unwrap()),
        )
    } else {
        let method = if rng.gen_bool(0.5) {
            Method::GET
        } else {
            Method::POST
        };
        (method, ROUTES.choose(rng).unwrap().to_string())
    };
    let path = match rng.gen_range(0..10) {
        0 => path.replace("upstream", "%00"),
        1 => format!("{path}/%ff%fe"),
        _ => path,
    };
    let query = if rng.gen_bool(0.4) {
        format!("?{}", random_form(rng))
    } else {
        String::new()
    };
    let mut request = client.request(method.clone(), format!("{base}{path}{query}"));
    if rng.gen_bool(0.8) {
        request = request.header(header::ORIGIN, origin);
    }
    let content_type = *[
        "application/x-www-form-urlencoded",
        "application/json",
        "text/plain",
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded; charset=latin1",
    ]
    .choose(rng)
    .unwrap();
    let body: Vec<u8> = match rng.gen_range(0..4) {
        0 => random_bytes(rng),
        1 => format!("{{\"email\":{:?}}}", random_text(rng)).into_bytes(),
        _ => random_form(rng).into_bytes(),
    };
    if method == Method::POST {
        request = request
            .header(header::CONTENT_TYPE, content_type)
            .body(body.clone());
    }
    if rng.gen_bool(0.3) {
        let scheme = *["Basic ", "Bearer ", "DPoP ", ""].choose(rng).unwrap();
        let value = format!("{scheme}{}", random_header_value(rng));
        request = request.header(header::AUTHORIZATION, value);
    }
    if rng.gen_bool(0.2) {
        request = request.header("dpop", random_header_value(rng));
        if rng.gen_bool(0.3) {
            request = request.header("dpop", random_header_value(rng));
        }
    }
    if rng.gen_bool(0.2) {
        request = request.header(header::ACCEPT, "text/html");
    }
    let sent = format!(
        "{method} {path}{} ({content_type}, {} body bytes)",
        query.chars().take(300).collect::<String>(),
        body.len()
    );
    (sent, request.send().await)
}

#[sqlx::test(migrations = "../migrations")]
async fn a_nul_byte_is_a_bad_request_wherever_it_is_sent(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let http = reqwest::Client::new();
    let base = format!("http://{}", app.addr);
    let revoke = http
        .post(format!("{base}/oauth2/revoke"))
        .form(&[("client_id", "a\0b"), ("token", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 400);
    let browser = app.browser();
    for (endpoint, field) in [
        ("sign-in", "email"),
        ("register", "display_name"),
        ("email-sign-in/link", "token"),
        ("verify-email", "token"),
        ("undo-email-change", "token"),
        ("passkeys/rename", "id"),
        ("identities/unlink", "provider"),
    ] {
        let res = browser.call(endpoint, &[(field, "x\0y")]).await;
        assert_eq!(res.status(), 400, "{endpoint}");
    }
    for path in [
        "/oauth2/authorize?client_id=%00",
        "/signin/social/%00",
        "/oauth2/logout?client_id=a%00",
        "/verify-email?token=%01",
    ] {
        let res = browser.get(path).await;
        assert_eq!(res.status(), 400, "{path}");
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn seeded_fuzzing_of_every_public_endpoint_finds_no_server_error(db: PgPool) {
    let app = TestApp::spawn(db).await;
    // Some endpoints need a social provider and a client to reach their deeper code.
    sqlx::query(
        "INSERT INTO social_providers (id, kind, display_name, issuer, client_id, scopes)
         VALUES ('upstream', 'oidc', 'Upstream', 'http://127.0.0.1:9', 'c', 'openid')",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let client = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let base = format!("http://{}", app.addr);
    let seed: u64 = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20261201);
    let runs: usize = std::env::var("FUZZ_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1500);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut failures = Vec::new();
    for n in 0..runs {
        let (sent, answer) = random_request(&mut rng, &client, &base, &app.public_url).await;
        match answer {
            Ok(res) if res.status().is_server_error() => {
                let status = res.status();
                let body: String = res
                    .text()
                    .await
                    .unwrap_or_default()
                    .chars()
                    .take(200)
                    .collect();
                failures.push(format!("#{n} {sent} -> {status} {body}"));
            }
            Ok(res) => {
                let _ = res.bytes().await;
            }
            Err(e) if e.is_timeout() => failures.push(format!("#{n} {sent} -> no answer in 20 s")),
            // A connection the server closed on an oversized body is an answer too.
            Err(_) => {}
        }
    }
    assert!(
        failures.is_empty(),
        "seed {seed}: {} of {runs} requests failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Still serving after all that.
    assert_eq!(app.browser().get("/healthz").await.status(), 200);
}
