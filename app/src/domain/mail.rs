//! Outgoing mail: the messages the product sends and the outbox they are queued in. Delivery
//! is the mail worker's job; here a message is only ever written in the caller's transaction.
//! A message's text (its links and codes) stays in the outbox only until it is delivered; in
//! development the outbox page is where it is delivered to, and the rows are purged after a
//! week either way.

use sqlx::PgExecutor;
use time::OffsetDateTime;

use super::email::Email;
use crate::domain::privacy::{Erasure, Export, Table};
use crate::i18n::{td_string, Locale};

/// A message ready to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    /// Which message it is (the template), kept after its text is gone.
    pub kind: &'static str,
    pub to: String,
    pub subject: String,
    pub body: String,
    /// The sender's display name (the brand's), else the configured one.
    pub sender: Option<String>,
}

/// Queues `mail` in the outbox (inside the caller's transaction when given one).
pub async fn enqueue(db: impl PgExecutor<'_>, mail: &OutgoingMail) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO mail_outbox (kind, recipient, subject, body_text, sender_name)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(mail.kind)
    .bind(&mail.to)
    .bind(&mail.subject)
    .bind(&mail.body)
    .bind(&mail.sender)
    .execute(db)
    .await?;
    Ok(())
}

/// The kind of the last message to an erased person: its row is deleted as soon as it is
/// delivered, so the address is not left behind in the outbox.
pub const ERASED_KIND: &str = "account_erased";

/// One outbox row, as the development outbox page shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxEntry {
    pub id: i64,
    pub kind: String,
    pub recipient: String,
    /// `None` once delivered to a real mail server.
    pub subject: Option<String>,
    pub body_text: Option<String>,
    pub created_at: OffsetDateTime,
    pub delivered: bool,
    pub attempts: i32,
}

/// The 50 newest messages of the outbox.
pub async fn recent(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<OutboxEntry>> {
    sqlx::query_as(
        "SELECT id, kind, recipient, subject, body_text, created_at,
                delivered_at IS NOT NULL AS delivered, attempts
         FROM mail_outbox ORDER BY id DESC LIMIT 50",
    )
    .fetch_all(db)
    .await
}

/// What changed about how a person signs in, as the "factors changed" message words it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactorChange {
    /// They added an authenticator app.
    AuthenticatorAdded,
    /// They removed their authenticator app.
    AuthenticatorRemoved,
    /// They made a new set of recovery codes.
    RecoveryCodesReplaced,
    /// They gave their passwordless account a password.
    PasswordAdded,
    /// They removed their password.
    PasswordRemoved,
    /// Support removed their authenticator app.
    AuthenticatorRemovedBySupport,
    /// Support removed one of their passkeys.
    PasskeyRemovedBySupport,
}

impl FactorChange {
    /// The change in words, in `locale`, as it completes the message's sentence.
    pub fn words(self, locale: Locale) -> &'static str {
        match self {
            Self::AuthenticatorAdded => td_string!(locale, mail.factor_authenticator_added),
            Self::AuthenticatorRemoved => td_string!(locale, mail.factor_authenticator_removed),
            Self::RecoveryCodesReplaced => {
                td_string!(locale, mail.factor_recovery_codes_replaced)
            }
            Self::PasswordAdded => td_string!(locale, mail.factor_password_added),
            Self::PasswordRemoved => td_string!(locale, mail.factor_password_removed),
            Self::AuthenticatorRemovedBySupport => {
                td_string!(locale, mail.factor_authenticator_removed_by_support)
            }
            Self::PasskeyRemovedBySupport => {
                td_string!(locale, mail.factor_passkey_removed_by_support)
            }
        }
    }
}

/// Builds the product's messages in a brand's words and the recipient's language; links start
/// at the public URL.
#[derive(Debug, Clone)]
pub struct Templates<'a> {
    pub product: &'a str,
    pub public_url: &'a str,
    /// The brand's sender name.
    pub sender: &'a str,
    /// The brand's closing, added under every message (may be empty).
    pub footer: &'a str,
    /// The language the recipient reads: the messages are written in it.
    pub locale: Locale,
}

impl<'a> Templates<'a> {
    /// The messages of `brand`, in `locale` (the recipient's language).
    pub fn new(public_url: &'a str, brand: &'a super::branding::Brand, locale: Locale) -> Self {
        Self {
            product: &brand.product_name,
            public_url,
            sender: &brand.mail_sender_name,
            footer: &brand.mail_footer,
            locale,
        }
    }

    /// `mail` signed with the brand: its closing under the text, its name as the sender.
    fn signed(&self, mut mail: OutgoingMail) -> OutgoingMail {
        if !self.footer.is_empty() {
            mail.body.push_str("\n-- \n");
            mail.body.push_str(self.footer);
            mail.body.push('\n');
        }
        mail.sender = Some(self.sender.to_owned());
        mail
    }

    pub fn verify_email(&self, to: &Email, name: &str, token: &str) -> OutgoingMail {
        let link = format!("{}/verify-email?token={token}", self.public_url);
        self.signed(OutgoingMail {
            kind: "verify_email",
            to: to.to_string(),
            subject: td_string!(
                self.locale,
                mail.verify_email_subject,
                product = self.product
            ),
            body: td_string!(
                self.locale,
                mail.verify_email_body,
                name = name,
                link = link,
                product = self.product
            ),
            sender: None,
        })
    }

    pub fn already_registered(&self, to: &Email, name: &str) -> OutgoingMail {
        let signin = format!("{}/signin", self.public_url);
        let reset = format!("{}/forgot-password", self.public_url);
        self.signed(OutgoingMail {
            kind: "already_registered",
            to: to.to_string(),
            subject: td_string!(
                self.locale,
                mail.already_registered_subject,
                product = self.product
            ),
            body: td_string!(
                self.locale,
                mail.already_registered_body,
                name = name,
                product = self.product,
                signin = signin,
                reset = reset
            ),
            sender: None,
        })
    }

    pub fn reset_password(&self, to: &Email, name: &str, token: &str) -> OutgoingMail {
        let link = format!("{}/reset-password?token={token}", self.public_url);
        self.signed(OutgoingMail {
            kind: "reset_password",
            to: to.to_string(),
            subject: td_string!(
                self.locale,
                mail.reset_password_subject,
                product = self.product
            ),
            body: td_string!(
                self.locale,
                mail.reset_password_body,
                name = name,
                link = link
            ),
            sender: None,
        })
    }

    pub fn sign_in_link(&self, to: &Email, name: &str, token: &str, code: &str) -> OutgoingMail {
        let link = format!("{}/signin/email?token={token}", self.public_url);
        self.signed(OutgoingMail {
            kind: "sign_in_link",
            to: to.to_string(),
            subject: td_string!(
                self.locale,
                mail.sign_in_link_subject,
                product = self.product,
                code = code
            ),
            body: td_string!(
                self.locale,
                mail.sign_in_link_body,
                name = name,
                code = code,
                link = link
            ),
            sender: None,
        })
    }

    /// The name a sign-in link greets an address without an account by ("Hello there,").
    pub fn no_name(&self) -> &'static str {
        td_string!(self.locale, mail.sign_in_link_no_name)
    }

    pub fn second_factor_code(&self, to: &Email, name: &str, code: &str) -> OutgoingMail {
        self.signed(OutgoingMail {
            kind: "second_factor_code",
            to: to.to_string(),
            subject: td_string!(
                self.locale,
                mail.second_factor_code_subject,
                product = self.product,
                code = code
            ),
            body: td_string!(
                self.locale,
                mail.second_factor_code_body,
                name = name,
                code = code,
                public_url = self.public_url
            ),
            sender: None,
        })
    }

    pub fn new_sign_in(
        &self,
        to: &Email,
        name: &str,
        device: &str,
        place: &str,
        when: &str,
        reset_token: &str,
    ) -> OutgoingMail {
        let reset = format!("{}/reset-password?token={reset_token}", self.public_url);
        self.signed(OutgoingMail {
            kind: "new_sign_in",
            to: to.to_string(),
            subject: td_string!(
                self.locale,
                mail.new_sign_in_subject,
                product = self.product
            ),
            body: td_string!(
                self.locale,
                mail.new_sign_in_body,
                name = name,
                product = self.product,
                device = device,
                place = place,
                when = when,
                reset = reset
            ),
            sender: None,
        })
    }

    /// Where a risky sign-in came from, in words for [`Self::new_sign_in`]: the country the
    /// network address was placed in, and the address, as far as they are known.
    pub fn sign_in_place(&self, country: Option<&str>, ip: Option<&str>) -> String {
        match (country, ip) {
            (Some(country), Some(ip)) => td_string!(
                self.locale,
                mail.new_sign_in_place_country_network,
                country = country,
                ip = ip
            ),
            (None, Some(ip)) => td_string!(self.locale, mail.new_sign_in_place_network, ip = ip),
            (Some(country), None) => country.to_owned(),
            (None, None) => td_string!(self.locale, mail.new_sign_in_place_unknown).to_owned(),
        }
    }

    pub fn factors_changed(&self, to: &Email, name: &str, what: FactorChange) -> OutgoingMail {
        let reset = format!("{}/forgot-password", self.public_url);
        self.signed(OutgoingMail {
            kind: "factors_changed",
            to: to.to_string(),
            subject: td_string!(
                self.locale,
                mail.factors_changed_subject,
                product = self.product
            ),
            body: td_string!(
                self.locale,
                mail.factors_changed_body,
                name = name,
                product = self.product,
                what = what.words(self.locale),
                reset = reset
            ),
            sender: None,
        })
    }

    pub fn password_changed(&self, to: &Email, name: &str) -> OutgoingMail {
        let reset = format!("{}/forgot-password", self.public_url);
        self.signed(OutgoingMail {
            kind: "password_changed",
            to: to.to_string(),
            subject: td_string!(
                self.locale,
                mail.password_changed_subject,
                product = self.product
            ),
            body: td_string!(
                self.locale,
                mail.password_changed_body,
                name = name,
                product = self.product,
                reset = reset
            ),
            sender: None,
        })
    }

    /// Told to the old address when staff moved the account to `new_address` (shown masked,
    /// in case the old address now reaches someone else).
    pub fn email_changed(&self, to: &Email, name: &str, new_address: &str) -> OutgoingMail {
        self.signed(OutgoingMail {
            kind: "email_changed",
            to: to.to_string(),
            subject: td_string!(
                self.locale,
                mail.email_changed_subject,
                product = self.product
            ),
            body: td_string!(
                self.locale,
                mail.email_changed_body,
                name = name,
                product = self.product,
                new_address = new_address
            ),
            sender: None,
        })
    }

    /// The link that proves a new address the owner asked to move their account to.
    pub fn confirm_new_email(&self, to: &Email, name: &str, token: &str) -> OutgoingMail {
        let link = format!("{}/confirm-email-change?token={token}", self.public_url);
        self.signed(OutgoingMail {
            kind: "confirm_new_email",
            to: to.to_string(),
            subject: td_string!(
                self.locale,
                mail.confirm_new_email_subject,
                product = self.product
            ),
            body: td_string!(
                self.locale,
                mail.confirm_new_email_body,
                name = name,
                product = self.product,
                link = link
            ),
            sender: None,
        })
    }

    /// Told to the owner of an address someone asked to move another account to.
    pub fn email_change_to_taken(&self, to: &Email, name: &str) -> OutgoingMail {
        self.signed(OutgoingMail {
            kind: "email_change_to_taken",
            to: to.to_string(),
            subject: td_string!(
                self.locale,
                mail.email_change_to_taken_subject,
                product = self.product
            ),
            body: td_string!(
                self.locale,
                mail.email_change_to_taken_body,
                name = name,
                product = self.product
            ),
            sender: None,
        })
    }

    /// Told to the old address when the owner moved the account to another one, with the link
    /// that undoes the change.
    pub fn email_changed_by_owner(
        &self,
        to: &Email,
        name: &str,
        new_address: &str,
        undo_token: &str,
    ) -> OutgoingMail {
        let link = format!("{}/undo-email-change?token={undo_token}", self.public_url);
        self.signed(OutgoingMail {
            kind: "email_changed_by_owner",
            to: to.to_string(),
            subject: td_string!(
                self.locale,
                mail.email_changed_by_owner_subject,
                product = self.product
            ),
            body: td_string!(
                self.locale,
                mail.email_changed_by_owner_body,
                name = name,
                product = self.product,
                new_address = new_address,
                link = link
            ),
            sender: None,
        })
    }

    /// An invitation to join the staff: the one-time link that sets the password.
    pub fn staff_invite(&self, to: &Email, role: &str, link: &str) -> OutgoingMail {
        self.signed(OutgoingMail {
            kind: "staff_invite",
            to: to.to_string(),
            subject: td_string!(
                self.locale,
                mail.staff_invite_subject,
                product = self.product
            ),
            body: td_string!(
                self.locale,
                mail.staff_invite_body,
                role = role,
                product = self.product,
                link = link
            ),
            sender: None,
        })
    }

    /// The account is set to be deleted on `due` (as pages show a moment); a sign-in before
    /// then offers to cancel.
    pub fn deletion_scheduled(&self, to: &Email, name: &str, due: &str) -> OutgoingMail {
        let sign_in = format!("{}/signin", self.public_url);
        self.signed(OutgoingMail {
            kind: "deletion_scheduled",
            to: to.to_string(),
            subject: td_string!(
                self.locale,
                mail.deletion_scheduled_subject,
                product = self.product
            ),
            body: td_string!(
                self.locale,
                mail.deletion_scheduled_body,
                name = name,
                product = self.product,
                due = due,
                sign_in = sign_in
            ),
            sender: None,
        })
    }

    /// The last message: the account is gone. The outbox forgets it once delivered.
    pub fn account_erased(&self, to: &str, name: &str) -> OutgoingMail {
        self.signed(OutgoingMail {
            kind: ERASED_KIND,
            to: to.to_owned(),
            subject: td_string!(
                self.locale,
                mail.account_erased_subject,
                product = self.product
            ),
            body: td_string!(
                self.locale,
                mail.account_erased_body,
                name = name,
                product = self.product
            ),
            sender: None,
        })
    }

    /// The notice of a breach response: the business's words (as written, in whatever
    /// language the business wrote them), then what happens next.
    pub fn breach_notice(&self, to: &Email, name: &str, notice: &str) -> OutgoingMail {
        let reset = format!("{}/forgot-password", self.public_url);
        self.signed(OutgoingMail {
            kind: "breach_notice",
            to: to.to_string(),
            subject: td_string!(
                self.locale,
                mail.breach_notice_subject,
                product = self.product
            ),
            body: td_string!(
                self.locale,
                mail.breach_notice_body,
                name = name,
                notice = notice,
                reset = reset
            ),
            sender: None,
        })
    }
}

/// The tables this module owns: what they hold about people, and how a person's export and
/// erasure cover them (see `privacy`).
pub const TABLES: &[Table] = &[Table {
    name: "mail_outbox",
    person: None,
    personal: &["recipient", "subject", "body_text", "sender_name"],
    other: &[
        "id",
        "created_at",
        "attempts",
        "next_attempt_at",
        "delivered_at",
        "last_error",
        "kind",
    ],
    export: Export::Not("mail on its way; it is the person's own inbox that holds it"),
    erasure: Erasure::DeleteNaming("recipient = ANY($1)"),
}];
