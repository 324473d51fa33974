//! Account lifecycle: registration, email verification, profile changes and the first admin.

use serde_json::json;
use sqlx::PgConnection;
use tower_sessions::Session;
use uuid::Uuid;

use super::{
    address_proof::{self, Proof},
    audit::{self, Actor, AuditEvent, Outcome},
    branding,
    client::ClientInfo,
    consents,
    email::Email,
    email_change,
    error::AccountError,
    mail::{self, Templates},
    names::DisplayName,
    password::{NewPassword, Password},
    proof_of_work,
    staff::{self, StaffRole},
    throttle,
    tokens::{self, TokenPurpose},
    users::{self, NewUser, Role, User},
};
use crate::state::AppState;

/// A registration as parsed from the form.
#[derive(Debug)]
pub struct Registration {
    pub email: Email,
    pub display_name: DisplayName,
    pub password: Password,
    /// The form's hidden trap field came back filled: a bot filled in every field.
    pub trap_filled: bool,
    /// The browser's answer to the registration's proof of work (empty without JavaScript).
    pub proof: String,
    /// The purposes ticked on the form, with the policy versions shown.
    pub consent: consents::asked::Answer,
}

/// Registers an account and mails a verification link. When the address already has an
/// account, its owner is told by mail instead; the caller cannot tell the two apart.
/// Registrations are limited per address, per client network and overall, and more tightly
/// without a proof of work. The registering browser keeps a claim on the account: its password
/// survives the address's proof only from this browser.
#[tracing::instrument(skip_all)]
pub async fn register(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    registration: Registration,
) -> Result<(), AccountError> {
    let Registration {
        email,
        display_name,
        password,
        trap_filled,
        proof,
        consent,
    } = registration;
    if trap_filled {
        // The same answer as a registration, so the bot learns nothing; nothing is stored or
        // mailed.
        let event = AuditEvent::new("account.registration_trapped", Outcome::Failure)
            .detail(json!({ "email_domain": email.domain() }));
        audit::record(&state.db, client, event).await?;
        return Ok(());
    }
    email.for_new_account()?;
    let policy = super::settings::current(state)
        .await?
        .limits
        .password_policy();
    let password = NewPassword::parse(
        password.expose().to_owned(),
        &[email.as_str(), display_name.as_str()],
        &policy,
    )?;
    let question = consents::asked::at_registration(&state.db).await?;
    let granted = consents::asked::check(&question, &consent)?;
    let proven = proof_of_work::registration_proven(state, client, &proof).await?;
    let keys = throttle::registration_keys(email.as_str(), client.network().as_deref(), proven);
    if let Some(minutes) = throttle::admit(&state.db, &keys).await? {
        return Err(AccountError::Throttled { minutes });
    }
    let hash = state.passwords.hash(&password).await?;
    let claim = address_proof::claim(session).await?;

    let mut tx = state.db.begin().await?;
    let new = NewUser {
        id: Uuid::new_v4(),
        email: &email,
        display_name: &display_name,
        password_hash: Some(&hash),
        role: Role::Customer,
        verified: false,
        claim_hash: Some(&claim),
        locale: Some(&client.reading.locale),
    };
    if let Some(user_id) = create_or_warn_owner(state, &mut tx, client, new, "password").await? {
        let via = question.collection();
        consents::asked::record(&mut tx, client, user_id, &granted, via).await?;
    }
    tx.commit().await?;
    state.mail_queued.notify_one();
    Ok(())
}

/// Inserts a customer account and queues its verification mail; when the address is taken,
/// queues the owner's "someone tried to register" mail instead. Returns the new account, if
/// one was made. `method` names how the customer registered, for the audit trail.
pub(super) async fn create_or_warn_owner(
    state: &AppState,
    tx: &mut PgConnection,
    client: &ClientInfo,
    new: NewUser<'_>,
    method: &str,
) -> Result<Option<Uuid>, AccountError> {
    let (email, name) = (new.email, new.display_name);
    let brand = branding::for_client(&mut *tx, client).await?;
    // An address whose owner just moved their account away from it stays theirs while the
    // change can be undone.
    let inserted = match email_change::reserver(&mut *tx, email, Uuid::nil()).await? {
        Some(_) => None,
        None => users::insert(&mut *tx, new).await?,
    };
    match inserted {
        Some(user_id) => {
            let token = tokens::issue(&mut *tx, user_id, TokenPurpose::VerifyEmail).await?;
            // The new account's language is the page's.
            let message = templates(state, &brand, client.reading.language()).verify_email(
                email,
                name.as_str(),
                token.expose(),
            );
            mail::enqueue(&mut *tx, &message).await?;
            let event = AuditEvent::new("account.registered", Outcome::Success)
                .by(user_id)
                .detail(json!({ "method": method }));
            audit::record(&mut *tx, client, event).await?;
        }
        None => {
            if let Some(owner) = email_change::holder(&mut *tx, email, Uuid::nil()).await? {
                // Told in the owner's language, not the page's.
                let message = templates(state, &brand, owner.language)
                    .already_registered(&owner.email, &owner.display_name);
                mail::enqueue(&mut *tx, &message).await?;
                let event = AuditEvent::new("account.registered", Outcome::Failure)
                    .about(Some(owner.id))
                    .detail(json!({ "reason": "email_taken", "method": method }));
                audit::record(&mut *tx, client, event).await?;
            }
        }
    }
    Ok(inserted)
}

/// Confirms the address of the account the verification token belongs to. Opened in another
/// browser than the one that registered, the proof removes what was set at registration (see
/// `address_proof`); the answer says whether it did.
#[tracing::instrument(skip_all)]
pub async fn verify_email(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    token: &str,
) -> Result<Proof, AccountError> {
    let mut tx = state.db.begin().await?;
    let user_id = match tokens::consume(&mut tx, token, TokenPurpose::VerifyEmail).await? {
        Ok(user_id) => user_id,
        Err(rejection) => {
            let event = AuditEvent::new("email.verification_failed", Outcome::Failure)
                .detail(json!({ "reason": rejection.to_string() }));
            audit::record(&mut *tx, client, event).await?;
            tx.commit().await?;
            return Err(rejection.into());
        }
    };
    let issuer = &state.settings.public_url;
    let proof = address_proof::prove(&mut tx, client, Some(session), issuer, user_id).await?;
    let event = AuditEvent::new("email.verified", Outcome::Success).about(Some(user_id));
    audit::record(&mut *tx, client, event).await?;
    tx.commit().await?;
    proof.after_commit(state);
    Ok(proof)
}

/// Sends a fresh verification link to an account that has not verified its address.
#[tracing::instrument(skip_all)]
pub async fn resend_verification(
    state: &AppState,
    client: &ClientInfo,
    user_id: Uuid,
) -> Result<(), AccountError> {
    let mut tx = state.db.begin().await?;
    let user = users::find_by_id(&mut *tx, user_id)
        .await?
        .ok_or(AccountError::NoSuchAccount)?;
    if user.is_verified() {
        return Ok(());
    }
    queue_verification(state, client, &mut tx, &user).await?;
    let event = AuditEvent::new("email.verification_sent", Outcome::Success).about(Some(user.id));
    audit::record(&mut *tx, client, event).await?;
    tx.commit().await?;
    state.mail_queued.notify_one();
    Ok(())
}

/// Queues a fresh verification link for `user` in the caller's transaction, in the brand of
/// the flow `client` is in.
pub(crate) async fn queue_verification(
    state: &AppState,
    client: &ClientInfo,
    tx: &mut PgConnection,
    user: &User,
) -> Result<(), AccountError> {
    let brand = branding::for_client(&mut *tx, client).await?;
    let token = tokens::issue(tx, user.id, TokenPurpose::VerifyEmail).await?;
    let message = templates(state, &brand, user.language()).verify_email(
        &user.email(),
        &user.display_name,
        token.expose(),
    );
    mail::enqueue(&mut *tx, &message).await?;
    Ok(())
}

/// The account of a signed-in user.
pub async fn profile(db: impl sqlx::PgExecutor<'_>, user_id: Uuid) -> Result<User, AccountError> {
    users::find_by_id(db, user_id)
        .await?
        .ok_or(AccountError::NoSuchAccount)
}

/// Changes the display name of a signed-in user.
#[tracing::instrument(skip_all)]
pub async fn rename(
    state: &AppState,
    client: &ClientInfo,
    user_id: Uuid,
    name: &DisplayName,
) -> Result<(), AccountError> {
    let mut tx = state.db.begin().await?;
    users::set_display_name(&mut tx, user_id, name).await?;
    let event = AuditEvent::new("profile.updated", Outcome::Success)
        .by(user_id)
        .detail(json!({ "fields": ["display_name"] }));
    audit::record(&mut *tx, client, event).await?;
    tx.commit().await?;
    Ok(())
}

/// How long an administrator's password setup link lives.
pub const ADMIN_LINK_LIFETIME: time::Duration = time::Duration::minutes(15);

/// Makes `email` a staff member's address in `role` (audited, with `actor`): creates the
/// account unless it exists (or, with `only_if_none`, unless any administrator exists) and
/// returns a one-time link, valid 15 minutes, to set its password while it has none.
#[tracing::instrument(skip_all)]
pub async fn ensure_admin(
    state: &AppState,
    email: &Email,
    role: StaffRole,
    only_if_none: bool,
    actor: Actor,
) -> Result<Option<String>, AccountError> {
    let mut tx = state.db.begin().await?;
    let admin = match users::find_by_email(&mut *tx, email).await? {
        Some(user) if user.is_admin() => user,
        Some(_) => return Err(AccountError::CustomerAddress),
        None if only_if_none && users::admin_exists(&mut *tx).await? => return Ok(None),
        None => {
            let name = DisplayName::parse("Administrator")?;
            let id = users::insert(
                &mut tx,
                NewUser {
                    id: Uuid::new_v4(),
                    email,
                    display_name: &name,
                    password_hash: None,
                    role: Role::Admin,
                    verified: true,
                    claim_hash: None,
                    locale: None,
                },
            )
            .await?
            .ok_or_else(|| anyhow::anyhow!("the admin address was taken concurrently"))?;
            staff::members::grant(&mut tx, id, role).await?;
            let event = AuditEvent::new("admin.created", Outcome::Success)
                .by_actor(actor)
                .about(Some(id))
                .detail(json!({ "email": email.as_str(), "role": role.as_str() }));
            audit::record(&mut *tx, &ClientInfo::default(), event).await?;
            users::find_by_id(&mut *tx, id)
                .await?
                .ok_or(AccountError::NoSuchAccount)?
        }
    };
    if admin.password_hash.is_some() {
        tx.commit().await?;
        return Ok(None);
    }
    let link = admin_setup_link(state, &mut tx, admin.id).await?;
    tx.commit().await?;
    Ok(Some(link))
}

/// Invites `email` to the staff in `role` from the console: as [`ensure_admin`], with the
/// setup link mailed to the address (the inviter never sees it). `false` when the address is
/// staff with a password already (nothing to send).
pub async fn invite_staff(
    state: &AppState,
    email: &Email,
    role: StaffRole,
    actor: Actor,
) -> Result<bool, AccountError> {
    let Some(link) = ensure_admin(state, email, role, false, actor).await? else {
        return Ok(false);
    };
    let mut tx = state.db.begin().await?;
    let brand = branding::default_brand(&mut *tx).await?;
    // The staff member's language once they chose one (a new account has none: English).
    let language = users::find_by_email(&mut *tx, email)
        .await?
        .map(|user| user.language())
        .unwrap_or_default();
    let message = templates(state, &brand, language).staff_invite(email, role.as_str(), &link);
    mail::enqueue(&mut *tx, &message).await?;
    tx.commit().await?;
    state.mail_queued.notify_one();
    Ok(true)
}

/// A fresh one-time link (15 minutes) for the administrator `email` who has not set a password
/// yet; the earlier link stops working. For operators who kept no copy of the first one.
#[tracing::instrument(skip_all)]
pub async fn admin_link(
    state: &AppState,
    email: &Email,
    actor: Actor,
) -> Result<String, AccountError> {
    let mut tx = state.db.begin().await?;
    let admin = users::find_by_email(&mut *tx, email)
        .await?
        .filter(User::is_admin)
        .ok_or(AccountError::NoSuchAccount)?;
    if admin.password_hash.is_some() {
        return Err(AccountError::Unexpected(anyhow::anyhow!(
            "{email} has set a password already; use \"Forgot password\" to choose another"
        )));
    }
    let link = admin_setup_link(state, &mut tx, admin.id).await?;
    let event = AuditEvent::new("admin.setup_link_issued", Outcome::Success)
        .by_actor(actor)
        .about(Some(admin.id));
    audit::record(&mut *tx, &ClientInfo::default(), event).await?;
    tx.commit().await?;
    Ok(link)
}

async fn admin_setup_link(
    state: &AppState,
    tx: &mut PgConnection,
    admin: Uuid,
) -> Result<String, AccountError> {
    let token =
        tokens::issue_for(tx, admin, TokenPurpose::ResetPassword, ADMIN_LINK_LIFETIME).await?;
    Ok(format!(
        "{}/reset-password?token={}",
        state.settings.public_url,
        token.expose()
    ))
}

/// The messages of `brand`, in `locale` (the recipient's language).
pub(super) fn templates<'a>(
    state: &'a AppState,
    brand: &'a branding::Brand,
    locale: crate::i18n::Locale,
) -> Templates<'a> {
    Templates::new(&state.settings.public_url, brand, locale)
}
