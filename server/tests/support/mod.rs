//! Test harness: the real application on port 0 over its own database, with an SMTP sink and
//! a cookie-keeping client that behaves like a browser on the site.
#![allow(dead_code)]

pub mod at_once;
pub mod cli;
pub mod erasure;
pub mod geo;
pub mod mfa;
mod no_js;
pub mod oidc;
pub mod sms;
pub mod smtp;
pub mod social;

use std::net::SocketAddr;

use reqwest::{header, redirect::Policy, Client, Response};
use server::{
    config::{Config, LogFormat, MasterKey},
    startup::{self, Running},
};
use sqlx::PgPool;

pub use sms::SmsSink;
pub use smtp::MailSink;

/// A password the policy accepts.
pub const GOOD_PASSWORD: &str = "violet tractor sings at dawn";
/// Another one, for changes.
pub const NEW_PASSWORD: &str = "amber kettle hums past noon";
/// The form fields that accept the seeded required purposes (terms of service and privacy
/// policy) at their first versions.
pub const ACCEPTED_TERMS: [(&str, &str); 2] = [("consent[terms]", "1"), ("consent[privacy]", "1")];

pub struct TestApp {
    pub addr: SocketAddr,
    /// What the app calls itself (links in mail start with it).
    pub public_url: String,
    pub db: PgPool,
    pub mail: MailSink,
    pub sms: SmsSink,
    /// The configuration the app runs with.
    pub config: Config,
    /// The running app's state, for driving its background work from a test.
    pub state: app::state::AppState,
    running: Running,
}

impl TestApp {
    /// Starts the app over `db` (a fresh, migrated database from `#[sqlx::test]`).
    pub async fn spawn(db: PgPool) -> Self {
        Self::spawn_with(db, |_| {}).await
    }

    /// Starts the app over `db` with the test configuration changed by `configure`.
    pub async fn spawn_with(db: PgPool, configure: impl FnOnce(&mut Config)) -> Self {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| "warn".into()),
            )
            .with_test_writer()
            .try_init();
        let mail = MailSink::start().await;
        let sms = SmsSink::start().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let public_url = format!("http://localhost:{}", addr.port());
        let mut config = Config {
            database_url: String::new(),
            replica_url: None,
            listen: addr,
            public_url: public_url.clone(),
            smtp_url: Some(format!("smtp://127.0.0.1:{}", mail.port)),
            mail_from: "Keyhaven <no-reply@example.com>".into(),
            sms_webhook_url: Some(format!("http://127.0.0.1:{}/send", sms.port)),
            sms_webhook_token: Some(SmsSink::TOKEN.into()),
            master_key: MasterKey([7; 32]),
            log_format: LogFormat::Pretty,
            site_root: "target/site".into(),
            key_rotation: time::Duration::days(90),
            refresh_family_lifetime: time::Duration::days(30),
            trusted_proxies: Default::default(),
            dev_delivery_forced: false,
            geoip_db: None,
            bad_networks_file: None,
            breached_passwords_url: None,
            sms_countries: None,
            metrics: Default::default(),
            api_rate_limit: 600,
            hashing_queue: None,
        };
        configure(&mut config);
        // The app gets a pool of its own, as in production (the test's pool has 5 connections
        // and waits 30 s for one: the app's workers and a request could starve on it).
        let served = startup::pool_options()
            .connect_with((*db.connect_options()).clone())
            .await
            .unwrap();
        let state = startup::app_state(served, &config).unwrap();
        let running = startup::start(listener, state.clone(), &config)
            .await
            .unwrap();
        Self {
            addr,
            public_url,
            db,
            mail,
            sms,
            config,
            state,
            running,
        }
    }

    /// A new browser: its own cookies, sending the site's Origin like a page of the site would.
    pub fn browser(&self) -> Browser {
        self.browser_with(header::HeaderMap::new())
    }

    /// A new browser at `ip`, as a trusted proxy in front of the app (127.0.0.1, when the test
    /// configured it so) reports it.
    pub fn browser_at(&self, ip: &str) -> Browser {
        let mut headers = header::HeaderMap::new();
        headers.insert("x-forwarded-for", ip.parse().unwrap());
        self.browser_with(headers)
    }

    /// A new browser that names itself `user_agent`.
    pub fn browser_as(&self, user_agent: &str) -> Browser {
        let mut headers = header::HeaderMap::new();
        headers.insert(header::USER_AGENT, user_agent.parse().unwrap());
        self.browser_with(headers)
    }

    /// A new browser sending `headers` (name, value) with every request.
    pub fn browser_with_headers(&self, headers: &[(&str, &str)]) -> Browser {
        let mut map = header::HeaderMap::new();
        for (name, value) in headers {
            map.insert(
                header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        self.browser_with(map)
    }

    fn browser_with(&self, mut headers: header::HeaderMap) -> Browser {
        headers.insert(header::ORIGIN, self.public_url.parse().unwrap());
        let client = Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .default_headers(headers)
            // A request the app never answers fails the test instead of hanging the suite.
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .unwrap();
        Browser {
            client,
            base: format!("http://{}", self.addr),
            public_url: self.public_url.clone(),
        }
    }

    /// The token in the last link of `body` that starts with `path?token=`.
    pub fn token_in(body: &str, path: &str) -> String {
        let marker = format!("{path}?token=");
        let start = body.rfind(&marker).expect("link in mail") + marker.len();
        body[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect()
    }

    /// Registers and verifies an account; returns a browser signed in to it.
    pub async fn signed_in_customer(&self, email: &str) -> Browser {
        self.signed_in_customer_on(self.browser(), email).await
    }

    /// As [`TestApp::signed_in_customer`], in `browser`.
    pub async fn signed_in_customer_on(&self, browser: Browser, email: &str) -> Browser {
        browser.register(email, "Ada Lovelace").await;
        let mail = self.mail.wait_for(email, "Confirm your email").await;
        let token = Self::token_in(&mail.body, "/verify-email");
        let res = browser.call("verify-email", &[("token", &token)]).await;
        assert_eq!(res.status(), 200);
        let res = browser
            .call("sign-in", &[("email", email), ("password", GOOD_PASSWORD)])
            .await;
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
        browser
    }

    /// Changes the sign-in policy by SQL (`UPDATE auth_settings SET {assignments}`), and
    /// forgets this node's copy of it at once, as the change notice does a moment later.
    pub async fn set_policy(&self, assignments: &str) {
        sqlx::query(&format!("UPDATE auth_settings SET {assignments}"))
            .execute(&self.db)
            .await
            .unwrap();
        self.policy_changed();
    }

    /// Forgets this node's copy of the sign-in policy after a test changed it, so that the next
    /// request reads it whether or not the change notice has arrived yet.
    pub fn policy_changed(&self) {
        self.state.auth_settings.clear();
    }

    /// With sign-up on first use allowed, a fresh browser asks for a sign-in mail for `email`
    /// (which has no account yet) and opens its link; returns the browser and the link's answer.
    pub async fn signs_up_by_email_link(&self, email: &str) -> (Browser, Response) {
        self.set_policy("register_on_email_sign_in = true").await;
        let browser = self.browser();
        browser.call("email-sign-in", &[("email", email)]).await;
        let mail = self.mail.wait_for(email, "sign-in code").await;
        let token = Self::token_in(&mail.body, "/signin/email");
        let res = browser
            .call("email-sign-in/link", &[("token", &token)])
            .await;
        (browser, res)
    }

    /// Makes `email` an administrator (as `server admin create` does) and returns a browser
    /// signed in to it through the one-time link, with [`GOOD_PASSWORD`] chosen there and an
    /// authenticator app set up on the second step (the policy requires one of administrators).
    pub async fn signed_in_admin(&self, email: &str) -> Browser {
        let browser = self.admin_at_second_step(email).await;
        mfa::enrol_on_second_step(&browser).await;
        browser
    }

    /// As [`TestApp::signed_in_admin`], for a staff member in `role`.
    pub async fn signed_in_staff(
        &self,
        email: &str,
        role: app::domain::staff::StaffRole,
    ) -> Browser {
        let browser = self.staff_at_second_step(email, role).await;
        mfa::enrol_on_second_step(&browser).await;
        browser
    }

    /// As [`TestApp::signed_in_admin`], but stopped at the second step, which asks them to
    /// set up a second factor.
    pub async fn admin_at_second_step(&self, email: &str) -> Browser {
        self.staff_at_second_step(email, app::domain::staff::StaffRole::Owner)
            .await
    }

    async fn staff_at_second_step(
        &self,
        email: &str,
        role: app::domain::staff::StaffRole,
    ) -> Browser {
        let state = startup::app_state(self.db.clone(), &self.config).unwrap();
        let address = app::domain::email::Email::parse(email).unwrap();
        let actor = app::domain::audit::Actor::Cli;
        let link = app::domain::accounts::ensure_admin(&state, &address, role, false, actor)
            .await
            .unwrap()
            .expect("a new administrator gets a link");
        let token = Self::token_in(&link, "/reset-password");
        let browser = self.browser();
        let res = browser
            .call(
                "reset-password",
                &[("token", token.as_str()), ("password", GOOD_PASSWORD)],
            )
            .await;
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
        browser
    }

    /// The owner of `email` resets the password to `password` from the mailed link, in a fresh
    /// browser, which is then signed in.
    pub async fn reset_password(&self, email: &str, password: &str) -> Browser {
        let owner = self.browser();
        let res = owner.call("forgot-password", &[("email", email)]).await;
        assert_eq!(res.status(), 200);
        let mail = self.mail.wait_for(email, "Reset your").await;
        let token = Self::token_in(&mail.body, "/reset-password");
        let res = owner
            .call(
                "reset-password",
                &[("token", token.as_str()), ("password", password)],
            )
            .await;
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
        owner
    }

    /// How many sign-ins the audit trail records with exactly these `amr` values.
    pub async fn signed_in_by(&self, amr: &[&str]) -> i64 {
        sqlx::query_scalar(
            "SELECT count(*) FROM audit_events
             WHERE action = 'signin.succeeded' AND detail -> 'amr' = to_jsonb($1::text[])",
        )
        .bind(amr)
        .fetch_one(&self.db)
        .await
        .unwrap()
    }

    /// Makes every signed-in session's sign-in 11 minutes old: too old for the changes that
    /// need a recent one (see `mfa::freshness`).
    pub async fn age_sign_ins(&self) {
        sqlx::query(
            "UPDATE sessions SET data = jsonb_set(data, '{auth_at}',
                                                  to_jsonb(extract(epoch from now())::bigint - 660))
             WHERE user_id IS NOT NULL",
        )
        .execute(&self.db)
        .await
        .unwrap();
    }

    /// Audit actions recorded so far, oldest first.
    pub async fn audit_actions(&self) -> Vec<(String, String)> {
        sqlx::query_as("SELECT action, outcome FROM audit_events ORDER BY id")
            .fetch_all(&self.db)
            .await
            .unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = self.running.shutdown.send(true);
    }
}

/// A cookie-keeping HTTP client standing in for one browser.
pub struct Browser {
    pub client: Client,
    pub base: String,
    pub public_url: String,
}

impl Browser {
    /// Registers `email` as `display_name` with [`GOOD_PASSWORD`], accepting the required
    /// purposes, from the registration form's endpoint.
    pub async fn register(&self, email: &str, display_name: &str) {
        let res = self
            .call(
                "register",
                &[
                    ("consent[terms]", "1"),
                    ("consent[privacy]", "1"),
                    ("email", email),
                    ("display_name", display_name),
                    ("password", GOOD_PASSWORD),
                ],
            )
            .await;
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    }

    /// Calls a server function the way the hydrated page does (JSON answers).
    pub async fn call(&self, endpoint: &str, form: &[(&str, &str)]) -> Response {
        self.client
            .post(format!("{}/api/{endpoint}", self.base))
            .header(header::ACCEPT, "application/json")
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// Posts a form the way a browser without JavaScript does, from the page at `page`.
    pub async fn submit(&self, page: &str, endpoint: &str, form: &[(&str, &str)]) -> Response {
        self.client
            .post(format!("{}/api/{endpoint}", self.base))
            .header(header::ACCEPT, "text/html,application/xhtml+xml")
            .header(header::REFERER, format!("{}{page}", self.public_url))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// Posts `form` to a page of the site (not a server function), as a form on the site's own
    /// pages does.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Response {
        self.client
            .post(format!("{}{path}", self.base))
            .header("sec-fetch-site", "same-origin")
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// Posts a multipart form to a page of the site, as a file upload form on the site's own
    /// pages does: the text `fields`, then `file` as (field, file name, content type, bytes).
    pub async fn post_multipart(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        file: (&str, &str, &str, &[u8]),
    ) -> Response {
        let boundary = "----keyhaven-test-boundary";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
                )
                .as_bytes(),
            );
        }
        let (name, file_name, content_type, bytes) = file;
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; \
                 filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        self.client
            .post(format!("{}{path}", self.base))
            .header("sec-fetch-site", "same-origin")
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(format!("{}{path}", self.base))
            .header(header::ACCEPT, "text/html")
            .send()
            .await
            .unwrap()
    }

    /// The answer to the proof-of-work puzzle the site sets this browser for `purpose`
    /// ("register" or "sign-in"), solved as the page does; `None` when it sets none.
    pub async fn solved_proof(&self, purpose: &str) -> Option<String> {
        use app::model::proof_of_work::{answer, search, Challenge};
        let res = self.call("proof-of-work", &[("purpose", purpose)]).await;
        assert_eq!(res.status(), 200);
        let puzzle: Option<Challenge> = res.json().await.unwrap();
        puzzle.map(|p| answer(&p.challenge, search(&p, 0, u64::MAX).unwrap()))
    }

    /// Answers the consent step of a sign-in (or a sign-up's first sign-in) by accepting the
    /// seeded required purposes' first versions; the sign-in goes on.
    pub async fn accept_terms(&self) -> Response {
        let res = self.answer_consent(&ACCEPTED_TERMS).await;
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
        res
    }

    /// Answers the consent step's question with `ticked` (`consent[<purpose>]` fields), naming
    /// the question as the page does.
    pub async fn answer_consent(&self, ticked: &[(&str, &str)]) -> Response {
        let res = self.call("signin/consent/question", &[]).await;
        assert_eq!(res.status(), 200);
        let question: serde_json::Value = res.json().await.unwrap();
        let step = question["step"].as_str().unwrap_or_default().to_owned();
        let mut form = vec![("step", step.as_str())];
        form.extend_from_slice(ticked);
        self.call("signin/consent/accept", &form).await
    }

    /// The signed-in account's summary, or `None`.
    pub async fn me(&self) -> Option<serde_json::Value> {
        let res = self.call("me", &[]).await;
        assert_eq!(res.status(), 200);
        let value: serde_json::Value = res.json().await.unwrap();
        (!value.is_null()).then_some(value)
    }
}

/// The JSON error a server function answered with.
pub async fn error_of(res: Response) -> serde_json::Value {
    res.json().await.unwrap()
}

/// Whether `check` comes true within about two seconds (for what other nodes learn by notice).
pub async fn eventually<F, Fut>(mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..20 {
        if check().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    false
}
