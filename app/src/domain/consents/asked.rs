//! What a person must answer before going on, and their answer: at registration every purpose
//! (the required ones to accept, the optional ones unticked), and at a sign-in the required
//! purposes whose current policy version they have not accepted (every purpose again when they
//! have never been asked, as after a social or passkey sign-up). An answer names each accepted
//! purpose with the policy version the person saw; one that changed since is refused, so the
//! ledger records only a version that was read.

use std::collections::HashMap;

use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::{
    ledger::{self, Choice},
    purposes::{self, Purpose},
    Collection,
};
use crate::domain::{client::ClientInfo, users::Role};

/// The purposes a person is asked about.
#[derive(Debug, Clone)]
pub struct Ask {
    /// In the business's order; the required ones must be accepted.
    pub purposes: Vec<Purpose>,
    /// They have never answered: this is the registration's question.
    pub first_time: bool,
}

impl Ask {
    /// How the answer to this question is collected.
    pub fn collection(&self) -> Collection {
        if self.first_time {
            Collection::Registration
        } else {
            Collection::Reconsent
        }
    }
}

/// Why an answer was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerRefusal {
    #[error("Accept the {0} to go on.")]
    NotAccepted(String),
    #[error(
        "The {0} changed while you were reading it. Read the new version and accept it again."
    )]
    Changed(String),
    #[error("There is no such purpose.")]
    Unknown,
}

/// The purposes ticked on a form, each with the policy version shown beside it: the form's
/// `consent[<key>]=<version>` fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Answer(Vec<(String, i32)>);

impl Answer {
    /// Reads the form's fields; a version that is not a number is a purpose not shown.
    pub fn parse(fields: &HashMap<String, String>) -> Result<Self, AnswerRefusal> {
        let mut ticked = fields
            .iter()
            .map(|(key, version)| {
                let version = version.trim().parse().map_err(|_| AnswerRefusal::Unknown)?;
                Ok((key.clone(), version))
            })
            .collect::<Result<Vec<_>, _>>()?;
        ticked.sort();
        Ok(Self(ticked))
    }

    fn version_of(&self, key: &str) -> Option<i32> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
    }
}

/// What `user_id` must answer before a sign-in goes on; none for staff, whose work is not
/// governed by the customers' terms.
pub async fn outstanding(db: &sqlx::PgPool, user_id: Uuid) -> sqlx::Result<Option<Ask>> {
    let role: Option<Role> = sqlx::query_scalar("SELECT role FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(db)
        .await?;
    match role {
        Some(role) => outstanding_for(&mut *db.acquire().await?, user_id, role).await,
        None => Ok(None),
    }
}

/// As [`outstanding`], for an account whose `role` the caller has just read.
pub async fn outstanding_for(
    conn: &mut sqlx::PgConnection,
    user_id: Uuid,
    role: Role,
) -> sqlx::Result<Option<Ask>> {
    if role != Role::Customer {
        return Ok(None);
    }
    let rows: Vec<LiveChoice> = sqlx::query_as(&format!(
        "SELECT {COLUMNS}, c.granted, c.policy_version, c.policy_hash, c.at,
                EXISTS (SELECT 1 FROM consent_ledger l
                        WHERE l.user_id = $1 AND l.purpose IS NOT NULL) AS chose_before
         FROM {FROM}
         LEFT JOIN LATERAL (
             SELECT l.granted, l.policy_version, l.policy_hash, l.at FROM consent_ledger l
             WHERE l.user_id = $1 AND l.purpose = p.key ORDER BY l.id DESC LIMIT 1
         ) c ON true
         WHERE p.retired_at IS NULL ORDER BY p.ordinal",
        COLUMNS = purposes::COLUMNS,
        FROM = purposes::FROM,
    ))
    .bind(user_id)
    .fetch_all(conn)
    .await?;
    let chose_before = rows.iter().any(|r| r.chose_before);
    let mut live = Vec::with_capacity(rows.len());
    let mut choices = Vec::new();
    for row in rows {
        if let (Some(granted), Some(policy_version), Some(policy_hash), Some(at)) =
            (row.granted, row.policy_version, row.policy_hash, row.at)
        {
            choices.push(Choice {
                purpose: row.purpose.key.clone(),
                granted,
                policy_version,
                policy_hash,
                at,
            });
        }
        live.push(row.purpose);
    }
    Ok(question(live, &choices, chose_before))
}

/// A live purpose with the person's newest choice about it (none when never chosen), and
/// whether they ever chose anything (a purpose since retired included).
#[derive(sqlx::FromRow)]
struct LiveChoice {
    #[sqlx(flatten)]
    purpose: Purpose,
    granted: Option<bool>,
    policy_version: Option<i32>,
    policy_hash: Option<Vec<u8>>,
    at: Option<time::OffsetDateTime>,
    chose_before: bool,
}

/// The question for someone with `choices` among the `live` purposes, who has (`chose_before`)
/// or has never been asked.
fn question(live: Vec<Purpose>, choices: &[Choice], chose_before: bool) -> Option<Ask> {
    if !chose_before {
        let first_time = live.iter().any(|p| p.required);
        return first_time.then_some(Ask {
            purposes: live,
            first_time,
        });
    }
    let purposes: Vec<Purpose> = live
        .into_iter()
        .filter(|p| p.required && !accepted(choices, p))
        .collect();
    (!purposes.is_empty()).then_some(Ask {
        purposes,
        first_time: false,
    })
}

/// Whether the person's newest choice accepts the purpose's current version.
fn accepted(choices: &[Choice], purpose: &Purpose) -> bool {
    choices
        .iter()
        .any(|c| c.purpose == purpose.key && c.granted && c.policy_version == purpose.version)
}

/// The purposes of `ask` that `answer` grants, or why it cannot be taken: a required one left
/// unticked, one whose version changed since it was shown, or one not asked about.
pub fn check<'a>(ask: &'a Ask, answer: &Answer) -> Result<Vec<&'a Purpose>, AnswerRefusal> {
    for (key, _) in &answer.0 {
        if !ask.purposes.iter().any(|p| &p.key == key) {
            return Err(AnswerRefusal::Unknown);
        }
    }
    let mut granted = Vec::new();
    for purpose in &ask.purposes {
        match answer.version_of(&purpose.key) {
            Some(v) if v == purpose.version => granted.push(purpose),
            Some(_) => return Err(AnswerRefusal::Changed(purpose.name.clone())),
            None if purpose.required => {
                return Err(AnswerRefusal::NotAccepted(purpose.name.clone()))
            }
            None => {}
        }
    }
    Ok(granted)
}

/// The registration form's question: every live purpose.
pub async fn at_registration(db: impl PgExecutor<'_>) -> sqlx::Result<Ask> {
    Ok(Ask {
        purposes: purposes::list(db, false).await?,
        first_time: true,
    })
}

/// Appends a grant of each purpose in `granted` for `user_id`, collected `via`, and audits
/// them (inside the caller's transaction).
pub async fn record(
    conn: &mut PgConnection,
    client: &ClientInfo,
    user_id: Uuid,
    granted: &[&Purpose],
    via: Collection,
) -> sqlx::Result<()> {
    for purpose in granted {
        ledger::record(conn, client, user_id, purpose, true, via).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::consents::LawfulBasis;

    fn purpose(key: &str, required: bool, version: i32) -> Purpose {
        Purpose {
            key: key.into(),
            name: format!("{key} policy"),
            required,
            lawful_basis: LawfulBasis::Contract,
            region: None,
            version,
            body: "text".into(),
            body_hash: vec![1],
            retired_at: None,
        }
    }

    fn choice(key: &str, granted: bool, version: i32) -> Choice {
        Choice {
            purpose: key.into(),
            granted,
            policy_version: version,
            policy_hash: vec![1],
            at: time::OffsetDateTime::UNIX_EPOCH,
        }
    }

    fn live() -> Vec<Purpose> {
        vec![purpose("terms", true, 2), purpose("news", false, 1)]
    }

    #[test]
    fn never_asked_is_asked_everything() {
        let ask = question(live(), &[], false).unwrap();
        assert!(ask.first_time);
        assert_eq!(ask.purposes.len(), 2);
        assert_eq!(ask.collection(), Collection::Registration);
    }

    #[test]
    fn only_a_newer_required_version_is_asked_again() {
        let old = [choice("terms", true, 1), choice("news", false, 1)];
        let ask = question(live(), &old, true).unwrap();
        assert!(!ask.first_time);
        assert_eq!(ask.purposes.len(), 1);
        assert_eq!(ask.purposes[0].key, "terms");
        let current = [choice("terms", true, 2)];
        assert!(question(live(), &current, true).is_none());
        let withdrawn = [choice("terms", false, 2)];
        assert!(question(live(), &withdrawn, true).is_some());
    }

    #[test]
    fn answers_are_checked_against_what_was_shown() {
        let ask = question(live(), &[], false).unwrap();
        let answer = |pairs: &[(&str, &str)]| {
            let map: HashMap<String, String> = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            Answer::parse(&map)
        };
        let ok = answer(&[("terms", "2")]).unwrap();
        let granted = check(&ask, &ok).unwrap();
        assert_eq!(granted.len(), 1);
        let both = answer(&[("terms", "2"), ("news", "1")]).unwrap();
        assert_eq!(check(&ask, &both).unwrap().len(), 2);
        let none = answer(&[("news", "1")]).unwrap();
        assert_eq!(
            check(&ask, &none).unwrap_err(),
            AnswerRefusal::NotAccepted("terms policy".into())
        );
        let stale = answer(&[("terms", "1")]).unwrap();
        assert_eq!(
            check(&ask, &stale).unwrap_err(),
            AnswerRefusal::Changed("terms policy".into())
        );
        let unknown = answer(&[("terms", "2"), ("other", "1")]).unwrap();
        assert_eq!(check(&ask, &unknown).unwrap_err(), AnswerRefusal::Unknown);
        assert_eq!(answer(&[("terms", "yes")]), Err(AnswerRefusal::Unknown));
    }
}
