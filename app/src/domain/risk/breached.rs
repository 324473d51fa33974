//! Whether a password is known from breaches: a bundled list of the passwords most often found
//! in breach corpora, and optionally a k-anonymity range service in the style of Have I Been
//! Pwned (`CIAM_BREACHED_PASSWORDS_URL`): only the first five hex digits of the password's
//! SHA-1 leave the server, and the answer lists the suffixes with that prefix.

use std::{collections::HashSet, sync::OnceLock, time::Duration};

use ring::digest::{digest, SHA1_FOR_LEGACY_USE_ONLY};

/// The bundled list, one password per line.
const BUNDLED: &str = include_str!("breached_passwords.txt");

fn bundled() -> &'static HashSet<&'static str> {
    static LIST: OnceLock<HashSet<&'static str>> = OnceLock::new();
    LIST.get_or_init(|| {
        BUNDLED
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect()
    })
}

/// Whether `password` is on the bundled list.
pub fn in_bundled_list(password: &str) -> bool {
    bundled().contains(password)
}

/// The uppercase hex SHA-1 of `password`, split after five characters.
fn range_parts(password: &str) -> (String, String) {
    let hex: String = digest(&SHA1_FOR_LEGACY_USE_ONLY, password.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    let (prefix, suffix) = hex.split_at(5);
    (prefix.to_owned(), suffix.to_owned())
}

/// Whether the range service at `base` (e.g. `https://api.pwnedpasswords.com/range`) lists
/// `password`; `None` when it cannot be asked (then the signal is simply not counted).
pub async fn in_range_service(http: &reqwest::Client, base: &str, password: &str) -> Option<bool> {
    let (prefix, suffix) = range_parts(password);
    let url = format!("{}/{prefix}", base.trim_end_matches('/'));
    let answer = http
        .get(url)
        .timeout(Duration::from_secs(2))
        .send()
        .await
        .ok()?;
    if !answer.status().is_success() {
        return None;
    }
    let body = answer.text().await.ok()?;
    Some(body.lines().any(|line| {
        line.split_once(':')
            .is_some_and(|(s, count)| s.trim().eq_ignore_ascii_case(&suffix) && count.trim() != "0")
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_list_holds_the_usual_suspects() {
        assert!(in_bundled_list("password1"));
        assert!(in_bundled_list("123456"));
        assert!(!in_bundled_list("violet tractor sings at dawn"));
    }

    #[test]
    fn only_the_prefix_leaves() {
        // SHA-1("password") = 5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8
        let (prefix, suffix) = range_parts("password");
        assert_eq!(prefix, "5BAA6");
        assert_eq!(suffix, "1E4C9B93F3F0682250B6CF8331B7EE68FD8");
    }
}
