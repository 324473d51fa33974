//! Many browsers doing the same thing at the same moment, as tabs, devices or a crowd do.

use super::{Browser, TestApp, GOOD_PASSWORD};

/// One browser's answer.
pub struct Answer {
    pub browser: Browser,
    pub status: u16,
    pub retry_after: Option<String>,
    pub body: String,
}

/// `n` fresh browsers signing in to `email` (with [`GOOD_PASSWORD`]) at once; their answers,
/// in the order they came.
pub async fn sign_ins(app: &TestApp, email: &str, n: usize) -> Vec<Answer> {
    let mut signing_in = tokio::task::JoinSet::new();
    for _ in 0..n {
        let browser = app.browser();
        let email = email.to_owned();
        signing_in.spawn(async move {
            let res = browser
                .call("sign-in", &[("email", &email), ("password", GOOD_PASSWORD)])
                .await;
            let status = res.status().as_u16();
            let retry_after = res
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body = res.text().await.unwrap();
            Answer {
                browser,
                status,
                retry_after,
                body,
            }
        });
    }
    let mut answers = Vec::with_capacity(n);
    while let Some(done) = signing_in.join_next().await {
        answers.push(done.unwrap());
    }
    answers
}
