//! Where a browser goes back to after a step-up (or a sign-in a sensitive change asked for):
//! a path on this site, kept in the session across the sign-in, never another site.

use tower_sessions::Session;

use crate::domain::{error::AccountError, sessions::RETURN_TO_KEY};

/// Remembers where a step-up goes back to: a path on this site, never another site.
pub async fn set_return(session: &Session, path: &str) -> Result<(), AccountError> {
    if is_local_path(path) {
        session.insert(RETURN_TO_KEY, path).await?;
    }
    Ok(())
}

/// Takes the path a step-up goes back to.
pub async fn take_return(session: &Session) -> Result<Option<String>, AccountError> {
    Ok(session.remove::<String>(RETURN_TO_KEY).await?)
}

/// Whether `path` is a path on this site (not `//host`, not `/\host`, no control characters).
pub fn is_local_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && !path.starts_with("/\\")
        && path.len() <= 512
        && !path.chars().any(|c| c.is_control())
}

#[cfg(test)]
mod tests {
    use super::is_local_path;

    #[test]
    fn a_step_up_returns_only_to_this_site() {
        assert!(is_local_path("/profile"));
        assert!(is_local_path("/oauth2/continue?request=abc"));
        for path in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "profile",
            "/x\ny",
            "",
        ] {
            assert!(!is_local_path(path), "{path:?}");
        }
    }
}
