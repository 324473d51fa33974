//! Forms without JavaScript: a refused form sends the browser back to its page with the error
//! in the address, and the page shows it.

use super::Browser;

impl Browser {
    /// Follows a refused plain form's redirect `res` back to `page` (asserting it goes there)
    /// and returns the page as the browser then shows it.
    pub async fn page_after_refusal(&self, res: reqwest::Response, page: &str) -> String {
        assert_eq!(res.status(), 302);
        let back = res.headers()["location"].to_str().unwrap().to_owned();
        assert!(
            back.starts_with(&format!("{}{page}?__path=", self.public_url)),
            "{back}"
        );
        let shown = self
            .client
            .get(format!(
                "{}{}",
                self.base,
                back.trim_start_matches(&self.public_url)
            ))
            .header("sec-fetch-site", "same-origin")
            .send()
            .await
            .unwrap();
        assert_eq!(shown.status(), 200);
        shown.text().await.unwrap()
    }
}
