//! Helpers for second factors: the authenticator app a test keeps (the key read from the
//! setup's answer, its codes computed as a phone would), and the steps of enrolling.

use std::time::{SystemTime, UNIX_EPOCH};

use totp_rs::{Builder, Secret};

use super::{Browser, TestApp};

/// An authenticator app holding one key.
pub struct Authenticator {
    secret: Vec<u8>,
}

impl Authenticator {
    /// The app after typing `key` (base32, in groups, as the page shows it).
    pub fn from_key(key: &str) -> Self {
        let typed: String = key.split_whitespace().collect();
        Self {
            secret: Secret::try_from_base32(&typed).unwrap().as_ref().to_vec(),
        }
    }

    /// The code the app shows at `time` (Unix seconds).
    pub fn code_at(&self, time: u64) -> String {
        Builder::new()
            .with_secret(self.secret.clone())
            .build()
            .unwrap()
            .generate(time)
            .to_string()
    }

    /// The code the app shows now.
    pub fn code(&self) -> String {
        self.code_at(now())
    }

    /// The code of the next 30-second step (still accepted: one step of clock skew either way).
    pub fn next_code(&self) -> String {
        self.code_at(now() + 30)
    }
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Sets up an authenticator app from the profile of the signed-in `browser`; returns the app
/// and the recovery codes shown once.
pub async fn enrol_from_profile(browser: &Browser) -> (Authenticator, Vec<String>) {
    let res = browser.call("security/authenticator/start", &[]).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let setup: serde_json::Value = res.json().await.unwrap();
    let app = Authenticator::from_key(setup["key"].as_str().unwrap());
    let res = browser
        .call("security/authenticator/confirm", &[("code", &app.code())])
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    (app, recovery_codes(browser).await)
}

/// Sets up an authenticator app on the second step of a sign-in (someone who must enrol);
/// returns the app and the recovery codes shown once.
pub async fn enrol_on_second_step(browser: &Browser) -> (Authenticator, Vec<String>) {
    let res = browser.call("second-factor/enrol/start", &[]).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let setup: serde_json::Value = res.json().await.unwrap();
    let app = Authenticator::from_key(setup["key"].as_str().unwrap());
    let res = browser
        .call("second-factor/enrol", &[("code", &app.code())])
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    (app, recovery_codes(browser).await)
}

/// The recovery codes held for showing once.
pub async fn recovery_codes(browser: &Browser) -> Vec<String> {
    let res = browser.call("security/recovery-codes/take", &[]).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    res.json().await.unwrap()
}

/// Asks the waiting second step of `browser` to mail a code to `email`; returns the code from
/// the mail.
pub async fn mailed_code(app: &TestApp, browser: &Browser, email: &str) -> String {
    let res = browser.call("second-factor/email/send", &[]).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let mail = app.mail.wait_for(email, "confirmation code").await;
    mail.subject.rsplit(' ').next().unwrap().to_owned()
}

/// What the waiting second step offers (`None` when none waits).
pub async fn offer(browser: &Browser) -> Option<serde_json::Value> {
    let res = browser.call("second-factor/offer", &[]).await;
    assert_eq!(res.status(), 200);
    let value: serde_json::Value = res.json().await.unwrap();
    (!value.is_null()).then_some(value)
}
