//! Customer search: by address or name (substring, through trigram indexes; a prefix for
//! queries under three characters), phone prefix or id; filtered by status, verification,
//! second factor, sign-in method, and created and last sign-in ranges; sorted, a page at a time
//! behind an opaque cursor (keyset pagination, so page 1000 costs what page 1 does).

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use sqlx::{PgExecutor, Postgres, QueryBuilder};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// Whether the account has a strong second factor (SQL over `u`).
macro_rules! mfa_sql {
    () => {
        "(EXISTS (SELECT 1 FROM totp_factors t WHERE t.user_id = u.id) \
          OR EXISTS (SELECT 1 FROM passkeys p WHERE p.user_id = u.id))"
    };
}

/// Longest search text taken.
const MAX_TEXT: usize = 200;
/// Most rows on a page.
pub const MAX_PAGE: i64 = 100;

/// Where an account stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Neither locked nor with a locked password.
    Active,
    /// Locked by an operator.
    Locked,
    /// The password is locked after too many failures.
    PasswordLocked,
}

crate::text_enum!(Status {
    Active => "active",
    Locked => "locked",
    PasswordLocked => "password_locked",
});

/// A way the account can sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WayIn {
    Password,
    Passkey,
    Social,
    Phone,
}

crate::text_enum!(WayIn {
    Password => "password",
    Passkey => "passkey",
    Social => "social",
    Phone => "phone",
});

/// The order of the results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    Newest,
    Oldest,
    Email,
}

crate::text_enum!(Sort {
    Newest => "newest",
    Oldest => "oldest",
    Email => "email",
});

/// What to look for. Every filter left `None` matches everything.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub text: String,
    pub status: Option<Status>,
    pub verified: Option<bool>,
    pub mfa: Option<bool>,
    pub way_in: Option<WayIn>,
    /// Created on or after / on or before these days (UTC).
    pub created_from: Option<Date>,
    pub created_to: Option<Date>,
    /// Last signed in on or after / on or before these days (UTC).
    pub signed_in_from: Option<Date>,
    pub signed_in_to: Option<Date>,
}

/// Why a search was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchError {
    #[error("The search text is longer than {MAX_TEXT} characters.")]
    TextTooLong,
    #[error("That page link is not valid any more; start the search again.")]
    BadCursor,
    /// The database failed (logged).
    #[error("the search failed")]
    Failed,
    /// The database cannot serve right now (down, restarting).
    #[error("the database is briefly unavailable")]
    Unavailable,
}

/// One customer in the results.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Row {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub phone: Option<String>,
    pub created_at: OffsetDateTime,
    pub last_sign_in_at: Option<OffsetDateTime>,
    pub verified: bool,
    pub locked: bool,
    pub password_locked: bool,
    pub mfa: bool,
}

/// One page of results, and the cursor of the next when there is one.
#[derive(Debug, Clone)]
pub struct Page {
    pub rows: Vec<Row>,
    pub next: Option<String>,
}

/// The position after a row, in the sort's key.
fn cursor_of(sort: Sort, row: &Row) -> String {
    let key = match sort {
        Sort::Newest | Sort::Oldest => (row.created_at.unix_timestamp_nanos() / 1000).to_string(),
        Sort::Email => row.email.to_lowercase(),
    };
    URL_SAFE_NO_PAD.encode(format!("{}|{key}", row.id))
}

enum Position {
    At(OffsetDateTime, Uuid),
    Email(String, Uuid),
}

fn parse_cursor(sort: Sort, cursor: &str) -> Result<Position, SearchError> {
    let raw = URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .map_err(|_| SearchError::BadCursor)?;
    let raw = String::from_utf8(raw).map_err(|_| SearchError::BadCursor)?;
    let (id, key) = raw.split_once('|').ok_or(SearchError::BadCursor)?;
    let id = Uuid::parse_str(id).map_err(|_| SearchError::BadCursor)?;
    match sort {
        Sort::Newest | Sort::Oldest => {
            let micros: i128 = key.parse().map_err(|_| SearchError::BadCursor)?;
            let at = OffsetDateTime::from_unix_timestamp_nanos(micros * 1000)
                .map_err(|_| SearchError::BadCursor)?;
            Ok(Position::At(at, id))
        }
        Sort::Email => Ok(Position::Email(key.to_owned(), id)),
    }
}

/// `text` with LIKE's wildcards and escape character taken literally.
fn like_literal(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

fn day_start(day: Date) -> OffsetDateTime {
    day.midnight().assume_utc()
}

/// The text part of the query.
fn push_text(q: &mut QueryBuilder<'_, Postgres>, text: &str) {
    if text.is_empty() {
        return;
    }
    if let Ok(id) = Uuid::parse_str(text) {
        q.push(" AND u.id = ").push_bind(id);
    } else if let Some(digits) = text.strip_prefix('+').filter(|rest| {
        rest.chars()
            .all(|c| c.is_ascii_digit() || " ()-.".contains(c))
    }) {
        let digits: String = digits.chars().filter(char::is_ascii_digit).collect();
        q.push(" AND u.phone LIKE ")
            .push_bind(format!("+{digits}%"));
    } else {
        let lowered = like_literal(&text.to_lowercase());
        if lowered.chars().count() >= 3 {
            let pattern = format!("%{lowered}%");
            q.push(" AND (lower(u.email) LIKE ")
                .push_bind(pattern.clone())
                .push(" OR lower(u.display_name) LIKE ")
                .push_bind(pattern)
                .push(")");
        } else {
            q.push(" AND lower(u.email) LIKE ")
                .push_bind(format!("{lowered}%"));
        }
    }
}

fn push_filters(q: &mut QueryBuilder<'_, Postgres>, f: &Filters) {
    match f.status {
        Some(Status::Active) => {
            q.push(" AND u.locked_at IS NULL AND u.password_locked_at IS NULL");
        }
        Some(Status::Locked) => {
            q.push(" AND u.locked_at IS NOT NULL");
        }
        Some(Status::PasswordLocked) => {
            q.push(" AND u.password_locked_at IS NOT NULL");
        }
        None => {}
    }
    match f.verified {
        Some(true) => {
            q.push(" AND u.email_verified_at IS NOT NULL");
        }
        Some(false) => {
            q.push(" AND u.email_verified_at IS NULL");
        }
        None => {}
    }
    match f.mfa {
        Some(true) => {
            q.push(concat!(" AND ", mfa_sql!()));
        }
        Some(false) => {
            q.push(concat!(" AND NOT ", mfa_sql!()));
        }
        None => {}
    }
    q.push(match f.way_in {
        Some(WayIn::Password) => " AND u.password_hash IS NOT NULL",
        Some(WayIn::Passkey) => " AND EXISTS (SELECT 1 FROM passkeys p WHERE p.user_id = u.id)",
        Some(WayIn::Social) => {
            " AND EXISTS (SELECT 1 FROM user_identities i WHERE i.user_id = u.id)"
        }
        Some(WayIn::Phone) => " AND u.phone_verified_at IS NOT NULL",
        None => "",
    });
    if let Some(day) = f.created_from {
        q.push(" AND u.created_at >= ").push_bind(day_start(day));
    }
    if let Some(day) = f.created_to.and_then(Date::next_day) {
        q.push(" AND u.created_at < ").push_bind(day_start(day));
    }
    if let Some(day) = f.signed_in_from {
        q.push(" AND u.last_sign_in_at >= ")
            .push_bind(day_start(day));
    }
    if let Some(day) = f.signed_in_to.and_then(Date::next_day) {
        q.push(" AND u.last_sign_in_at < ")
            .push_bind(day_start(day));
    }
}

/// A page of at most `limit` customers matching `filters` in `sort` order, after `cursor`.
pub async fn search(
    db: impl PgExecutor<'_>,
    filters: &Filters,
    sort: Sort,
    cursor: Option<&str>,
    limit: i64,
) -> Result<Page, SearchError> {
    let text = filters.text.trim();
    if text.chars().count() > MAX_TEXT {
        return Err(SearchError::TextTooLong);
    }
    let position = cursor
        .filter(|c| !c.trim().is_empty())
        .map(|c| parse_cursor(sort, c))
        .transpose()?;
    let limit = limit.clamp(1, MAX_PAGE);
    let mut q = QueryBuilder::<Postgres>::new(concat!(
        "SELECT u.id, u.email, u.display_name, u.phone, u.created_at, u.last_sign_in_at,
                u.email_verified_at IS NOT NULL AS verified, u.locked_at IS NOT NULL AS locked,
                u.password_locked_at IS NOT NULL AS password_locked, ",
        mfa_sql!(),
        " AS mfa FROM users u WHERE u.role = 'customer'"
    ));
    push_text(&mut q, text);
    push_filters(&mut q, filters);
    match position {
        Some(Position::At(at, id)) => {
            let op = if sort == Sort::Oldest { ">" } else { "<" };
            q.push(format!(" AND (u.created_at, u.id) {op} ("))
                .push_bind(at)
                .push(", ")
                .push_bind(id)
                .push(")");
        }
        Some(Position::Email(email, id)) => {
            q.push(" AND (lower(u.email), u.id) > (")
                .push_bind(email)
                .push(", ")
                .push_bind(id)
                .push(")");
        }
        None => {}
    }
    q.push(match sort {
        Sort::Newest => " ORDER BY u.created_at DESC, u.id DESC",
        Sort::Oldest => " ORDER BY u.created_at, u.id",
        Sort::Email => " ORDER BY lower(u.email), u.id",
    });
    q.push(" LIMIT ").push_bind(limit + 1);
    let mut rows: Vec<Row> = q.build_query_as().fetch_all(db).await.map_err(|e| {
        if crate::domain::error::sqlx_unavailable(&e) {
            tracing::warn!(error = %e, "customer search: the database cannot serve");
            return SearchError::Unavailable;
        }
        tracing::error!(error = %e, "customer search failed");
        SearchError::Failed
    })?;
    let next = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| cursor_of(sort, r))
    } else {
        None
    };
    Ok(Page { rows, next })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_are_taken_literally() {
        assert_eq!(like_literal(r"50%_off\"), r"50\%\_off\\");
    }

    #[test]
    fn a_cursor_round_trips_and_a_forged_one_is_refused() {
        let row = Row {
            id: Uuid::new_v4(),
            email: "Ada@Example.com".into(),
            display_name: "Ada".into(),
            phone: None,
            created_at: OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap(),
            last_sign_in_at: None,
            verified: true,
            locked: false,
            password_locked: false,
            mfa: false,
        };
        match parse_cursor(Sort::Newest, &cursor_of(Sort::Newest, &row)).unwrap() {
            Position::At(at, id) => assert_eq!((at, id), (row.created_at, row.id)),
            Position::Email(..) => panic!("a time cursor"),
        }
        match parse_cursor(Sort::Email, &cursor_of(Sort::Email, &row)).unwrap() {
            Position::Email(email, _) => assert_eq!(email, "ada@example.com"),
            Position::At(..) => panic!("an address cursor"),
        }
        assert!(parse_cursor(Sort::Newest, "not base64!").is_err());
        let forged = URL_SAFE_NO_PAD.encode("nope|123");
        assert!(parse_cursor(Sort::Newest, &forged).is_err());
    }
}
