//! Erasing a person whose "Delete my account" came due (`deletion`), in one transaction driven
//! by the privacy inventory: every sign-in ends first (apps get their back-channel logouts,
//! grants and their access tokens are revoked), the audit trail keeps its rows with the person
//! replaced by a pseudonym and their network, browser and personal details dropped
//! (`audit::erasure`), every table that says `Delete` loses the person's rows, those that
//! name the person by address or network lose theirs (`DeleteNaming`), the ledger keeps its
//! proof of consent (no contact data in it), and the account goes last. A last mail confirms
//! it; the outbox forgets it once delivered. Webhook subscribers are told `person.deleted`.
//! The erasure itself is audited under the pseudonym.

use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{tables, Erasure, Table};
use crate::{
    domain::{
        audit::{self, AuditEvent, Outcome},
        branding,
        client::ClientInfo,
        mail,
        sign_out::{self, EndedSignIns},
        webhooks,
    },
    state::AppState,
};

/// What an erasure did.
#[derive(Debug)]
#[must_use]
pub struct Erased {
    /// Who the audit trail now says instead.
    pub pseudonym: Uuid,
    /// Rows deleted, per table (tables with none left out).
    pub deleted: Vec<(&'static str, u64)>,
    /// Audit rows pseudonymised.
    pub pseudonymised: u64,
    ended: EndedSignIns,
}

impl Erased {
    /// Wakes the workers and tells this node's revocation copy, once committed.
    pub fn after_commit(&self, state: &AppState) {
        self.ended.after_commit(state);
        state.mail_queued.notify_one();
    }
}

/// Erases the person whose deletion is the longest overdue, if any; whether there was one.
/// Nodes take the due deletions one at a time each (`SKIP LOCKED`), so none is done twice.
/// One that fails is put back 15 minutes and the error returned (the worker logs it).
pub async fn run_due(state: &AppState) -> sqlx::Result<bool> {
    let mut tx = state.db.begin().await?;
    let due: Option<Uuid> = sqlx::query_scalar(
        "SELECT user_id FROM account_deletions WHERE due_at <= now()
         ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED",
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(user_id) = due else {
        return Ok(false);
    };
    let erased = match erase(&mut tx, state, user_id).await {
        Ok(erased) => erased,
        Err(error) => {
            tx.rollback().await?;
            // One that fails again and again must not hold up the others: it waits its turn
            // again later, and every failure is logged.
            sqlx::query(
                "UPDATE account_deletions SET due_at = now() + interval '15 minutes'
                 WHERE user_id = $1",
            )
            .bind(user_id)
            .execute(&state.db)
            .await?;
            return Err(error);
        }
    };
    tx.commit().await?;
    erased.after_commit(state);
    tracing::info!(
        pseudonym = %erased.pseudonym,
        audit_rows = erased.pseudonymised,
        "an account was erased"
    );
    Ok(true)
}

/// What names the person outside the rows that carry their id.
struct Names {
    email: String,
    name: String,
    /// The language their last message is written in.
    language: crate::i18n::Locale,
    /// Every address of theirs: the current one, and those of email changes on record (lower
    /// case).
    addresses: Vec<String>,
    /// Their addresses (as written and in lower case), phone number and every network
    /// address the audit trail saw them at.
    all: Vec<String>,
}

/// Erases `user_id` in the caller's transaction (see the module's doc).
pub async fn erase(tx: &mut PgConnection, state: &AppState, user_id: Uuid) -> sqlx::Result<Erased> {
    let names = names(&mut *tx, user_id).await?;
    let ended = sign_out::end_everywhere(&mut *tx, &state.settings.public_url, user_id).await?;
    let pseudonym = Uuid::new_v4();
    let pseudonymised =
        audit::erasure::pseudonymise(&mut *tx, user_id, &names.addresses, pseudonym).await?;
    let mut deleted = Vec::new();
    let mut account = None;
    for (_, table) in tables() {
        let rows = match (table.erasure, table.person) {
            (Erasure::Delete, Some(_)) if table.name == "users" => {
                account = Some(table);
                continue;
            }
            (Erasure::Delete, Some(person)) => {
                delete_rows(&mut *tx, table, person, user_id).await?
            }
            (Erasure::DeleteNaming(condition), _) => {
                sqlx::query(&format!("DELETE FROM {} WHERE {condition}", table.name))
                    .bind(&names.all)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
            }
            _ => 0,
        };
        if rows > 0 {
            deleted.push((table.name, rows));
        }
    }
    if let Some(users) = account {
        let rows = delete_rows(&mut *tx, users, "id", user_id).await?;
        deleted.push((users.name, rows));
    }
    let counts: serde_json::Map<String, serde_json::Value> = deleted
        .iter()
        .map(|(table, rows)| (table.to_string(), json!(rows)))
        .collect();
    let event = AuditEvent::new("account.erased", Outcome::Success)
        .by_actor(audit::Actor::System)
        .about(Some(pseudonym))
        .detail(json!({
            "rows_deleted": counts,
            "audit_rows_pseudonymised": pseudonymised,
            "sessions_ended": ended.sessions,
            "grants_ended": ended.grants.ids.len(),
        }));
    audit::record(&mut *tx, &ClientInfo::default(), event).await?;
    // After the inventory took every earlier message about the person: subscribers are told
    // this one thing more, so that they forget the person too (GDPR Art. 17(2), 19).
    webhooks::emit(&mut *tx, &webhooks::Event::PersonDeleted(user_id)).await?;
    let brand = branding::for_client(&mut *tx, &ClientInfo::default()).await?;
    let last = mail::Templates::new(&state.settings.public_url, &brand, names.language)
        .account_erased(&names.email, &names.name);
    mail::enqueue(&mut *tx, &last).await?;
    Ok(Erased {
        pseudonym,
        deleted,
        pseudonymised,
        ended,
    })
}

/// Deletes `table`'s rows whose `person` column is `user_id`.
async fn delete_rows(
    tx: &mut PgConnection,
    table: &Table,
    person: &str,
    user_id: Uuid,
) -> sqlx::Result<u64> {
    // Names come from the inventory's constants, never from input.
    Ok(
        sqlx::query(&format!("DELETE FROM {} WHERE {person} = $1", table.name))
            .bind(user_id)
            .execute(tx)
            .await?
            .rows_affected(),
    )
}

/// The person's address, name, phone number and the network addresses the audit trail has for
/// them (read before anything is changed).
async fn names(tx: &mut PgConnection, user_id: Uuid) -> sqlx::Result<Names> {
    let (email, name, phone, locale): (String, String, Option<String>, Option<String>) =
        sqlx::query_as(
            "SELECT email, display_name, phone, locale FROM users WHERE id = $1 FOR UPDATE",
        )
        .bind(user_id)
        .fetch_one(&mut *tx)
        .await?;
    let networks: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT ip FROM audit_events
         WHERE (subject_id = $1 OR actor_id = $1) AND ip IS NOT NULL",
    )
    .bind(user_id)
    .fetch_all(&mut *tx)
    .await?;
    let changes: Vec<(String, String)> =
        sqlx::query_as("SELECT old_email, new_email FROM email_changes WHERE user_id = $1")
            .bind(user_id)
            .fetch_all(&mut *tx)
            .await?;
    let mut written = vec![email.clone()];
    written.extend(changes.into_iter().flat_map(|(old, new)| [old, new]));
    let mut addresses: Vec<String> = written.iter().map(|a| a.to_lowercase()).collect();
    addresses.sort();
    addresses.dedup();
    let mut all = written;
    all.extend(addresses.iter().cloned());
    all.extend(phone);
    all.extend(networks);
    all.sort();
    all.dedup();
    Ok(Names {
        email,
        name,
        language: crate::domain::preferences::language_of(locale.as_deref()),
        addresses,
        all,
    })
}
