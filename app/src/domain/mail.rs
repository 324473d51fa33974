//! Outgoing mail: the messages the product sends and the outbox they are queued in. Delivery
//! is the mail worker's job; here a message is only ever written in the caller's transaction.
//! A message's text (its links and codes) stays in the outbox only until it is delivered; in
//! development the outbox page is where it is delivered to, and the rows are purged after a
//! week either way.

use sqlx::PgExecutor;
use time::OffsetDateTime;

use super::email::Email;
use crate::domain::privacy::{Erasure, Export, Table};

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

/// Builds the product's messages in a brand's words; links start at the public URL.
#[derive(Debug, Clone)]
pub struct Templates<'a> {
    pub product: &'a str,
    pub public_url: &'a str,
    /// The brand's sender name.
    pub sender: &'a str,
    /// The brand's closing, added under every message (may be empty).
    pub footer: &'a str,
}

impl<'a> Templates<'a> {
    /// The messages of `brand`.
    pub fn new(public_url: &'a str, brand: &'a super::branding::Brand) -> Self {
        Self {
            product: &brand.product_name,
            public_url,
            sender: &brand.mail_sender_name,
            footer: &brand.mail_footer,
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
            subject: format!("Confirm your email address for {}", self.product),
            body: format!(
                "Hello {name},\n\nplease confirm your email address by opening this link:\n\n{link}\n\n\
                 The link works once and expires in 24 hours. If you did not create an account \
                 with {product}, ignore this message.\n",
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
            subject: format!("Someone tried to register with your address at {}", self.product),
            body: format!(
                "Hello {name},\n\nsomeone just tried to create a {product} account with this email \
                 address, which already has an account.\n\nIf it was you, sign in here:\n{signin}\n\n\
                 Forgot your password? Reset it here:\n{reset}\n\nIf it was not you, you can ignore \
                 this message; your account is unchanged.\n",
                product = self.product
            ),
            sender: None,
        })
    }

    pub fn reset_password(&self, to: &Email, name: &str, token: &str) -> OutgoingMail {
        let link = format!("{}/reset-password?token={token}", self.public_url);
        self.signed(OutgoingMail {
            kind: "reset_password",
            to: to.to_string(),
            subject: format!("Reset your {} password", self.product),
            body: format!(
                "Hello {name},\n\nopen this link to choose a new password:\n\n{link}\n\n\
                 The link works once and expires in 1 hour. If you did not ask for it, ignore \
                 this message; your password stays as it is.\n"
            ),
            sender: None,
        })
    }

    pub fn sign_in_link(&self, to: &Email, name: &str, token: &str, code: &str) -> OutgoingMail {
        let link = format!("{}/signin/email?token={token}", self.public_url);
        self.signed(OutgoingMail {
            kind: "sign_in_link",
            to: to.to_string(),
            subject: format!("Your {} sign-in code is {code}", self.product),
            body: format!(
                "Hello {name},\n\nyour sign-in code is:\n\n    {code}\n\nType it in the browser \
                 where you asked for it, or open this link to sign in:\n\n{link}\n\n\
                 Both work once and expire in 15 minutes. If you did not ask to sign in, ignore \
                 this message; nobody can sign in without it.\n"
            ),
            sender: None,
        })
    }

    pub fn second_factor_code(&self, to: &Email, name: &str, code: &str) -> OutgoingMail {
        self.signed(OutgoingMail {
            kind: "second_factor_code",
            to: to.to_string(),
            subject: format!("Your {} confirmation code is {code}", self.product),
            body: format!(
                "Hello {name},\n\nto finish signing in, type this code in the browser where \
                 you asked for it:\n\n    {code}\n\nIt works once, in that browser only. If you \
                 are not signing in right now, someone knows your password: reset it now at \
                 {public_url}/forgot-password\n",
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
            subject: format!(
                "New sign-in to your {} account — was this you?",
                self.product
            ),
            body: format!(
                "Hello {name},\n\nyour {product} account was just signed in to from a sign-in \
                 that did not look like your usual ones:\n\n    Device: {device}\n    Place: \
                 {place}\n    Time: {when}\n\nIf this was you, there is nothing to do.\n\nIf it \
                 was not you, choose a new password now with this link (it works once, for an \
                 hour); that signs every device out of your account:\n\n{reset}\n",
                product = self.product
            ),
            sender: None,
        })
    }

    pub fn factors_changed(&self, to: &Email, name: &str, what: &str) -> OutgoingMail {
        let reset = format!("{}/forgot-password", self.public_url);
        self.signed(OutgoingMail {
            kind: "factors_changed",
            to: to.to_string(),
            subject: format!("How you sign in to {} changed", self.product),
            body: format!(
                "Hello {name},\n\non your {product} account, {what}.\n\nIf this was you, there is \
                 nothing to do. If it was not, reset your password now, which signs every device \
                 out:\n{reset}\n",
                product = self.product
            ),
            sender: None,
        })
    }

    pub fn password_changed(&self, to: &Email, name: &str) -> OutgoingMail {
        let reset = format!("{}/forgot-password", self.public_url);
        self.signed(OutgoingMail {
            kind: "password_changed",
            to: to.to_string(),
            subject: format!("Your {} password was changed", self.product),
            body: format!(
                "Hello {name},\n\nthe password of your {product} account was just changed, and \
                 every other signed-in device was signed out.\n\nIf this was not you, reset your \
                 password now:\n{reset}\n",
                product = self.product
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
            subject: format!("The email address of your {} account changed", self.product),
            body: format!(
                "Hello {name},\n\nat your request, our support team changed the email address \
                 of your {product} account to {new_address}. Mail about your account now goes \
                 there, and the links we sent to this address no longer work.\n\nIf you did not \
                 ask for this, reply to this message or contact support at once.\n",
                product = self.product
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
            subject: format!(
                "Confirm the new email address of your {} account",
                self.product
            ),
            body: format!(
                "Hello {name},\n\nopen this link to make this the email address of your \
                 {product} account:\n\n{link}\n\nThe link works once and expires in 24 hours. \
                 Until you open it, your account keeps its current address. If you did not ask \
                 for this, ignore this message.\n",
                product = self.product
            ),
            sender: None,
        })
    }

    /// Told to the owner of an address someone asked to move another account to.
    pub fn email_change_to_taken(&self, to: &Email, name: &str) -> OutgoingMail {
        self.signed(OutgoingMail {
            kind: "email_change_to_taken",
            to: to.to_string(),
            subject: format!("Someone tried to use your address at {}", self.product),
            body: format!(
                "Hello {name},\n\nsomeone signed in to another {product} account asked to move \
                 it to this address. This address already belongs to your account, so nothing \
                 changed.\n\nIf that was you, keep using this account, or remove this address \
                 from it first. If it was not you, you need to do nothing.\n",
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
            subject: format!("The email address of your {} account changed", self.product),
            body: format!(
                "Hello {name},\n\nthe email address of your {product} account was changed to \
                 {new_address}. Mail about your account now goes there, and the links we sent to \
                 this address no longer work.\n\nIf this wasn't you, open this link within 7 \
                 days:\n\n{link}\n\nIt puts this address back, signs out every device and asks \
                 for a new password.\n",
                product = self.product
            ),
            sender: None,
        })
    }

    /// An invitation to join the staff: the one-time link that sets the password.
    pub fn staff_invite(&self, to: &Email, role: &str, link: &str) -> OutgoingMail {
        self.signed(OutgoingMail {
            kind: "staff_invite",
            to: to.to_string(),
            subject: format!("You are invited to the {} console", self.product),
            body: format!(
                "Hello,\n\nyou were made {role} in the {product} console. Open this link to choose \
                 your password (it works once, for 15 minutes):\n\n{link}\n\nThen you will set up \
                 a second factor. If the link has expired, ask whoever invited you for a new one.\n",
                product = self.product
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
            subject: format!("Your {} account will be deleted", self.product),
            body: format!(
                "Hello {name},\n\nas you asked, your {product} account will be deleted on {due}, \
                 with everything we hold about you. Until then you can change your mind: sign in \
                 and choose to keep your account.\n\n{sign_in}\n\nWe signed you out everywhere \
                 and ended the access of the apps you had connected. If you did not ask for this, \
                 sign in now to cancel it and change your password.\n",
                product = self.product
            ),
            sender: None,
        })
    }

    /// The last message: the account is gone. The outbox forgets it once delivered.
    pub fn account_erased(&self, to: &str, name: &str) -> OutgoingMail {
        self.signed(OutgoingMail {
            kind: ERASED_KIND,
            to: to.to_owned(),
            subject: format!("Your {} account was deleted", self.product),
            body: format!(
                "Hello {name},\n\nyour {product} account and everything we held about you have \
                 been deleted, as you asked. What the law makes us keep (the record that you \
                 accepted our terms, and our security log) no longer names you. This is the last \
                 message we send you.\n",
                product = self.product
            ),
            sender: None,
        })
    }

    /// The notice of a breach response: the business's words, then what happens next.
    pub fn breach_notice(&self, to: &Email, name: &str, notice: &str) -> OutgoingMail {
        let reset = format!("{}/forgot-password", self.public_url);
        self.signed(OutgoingMail {
            kind: "breach_notice",
            to: to.to_string(),
            subject: format!("Important: secure your {} account", self.product),
            body: format!(
                "Hello {name},\n\n{notice}\n\nTo keep your account safe we signed it out \
                 everywhere. Before you sign in with a password again, choose a new one:\n\
                 {reset}\n\nAt your next sign-in you will also set up a second factor.\n"
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
