//! The product's messages, in a brand's words and the recipient's language (the `mail`
//! translations): what each says, with its links and codes.

use super::{FactorChange, OutgoingMail, ERASED_KIND};
use crate::domain::email::Email;
use crate::i18n::{td_string, Locale};

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
    pub fn new(
        public_url: &'a str,
        brand: &'a crate::domain::branding::Brand,
        locale: Locale,
    ) -> Self {
        Self {
            product: &brand.product_name,
            public_url,
            sender: &brand.mail_sender_name,
            footer: &brand.mail_footer,
            locale,
        }
    }

    /// The message `kind` to `to`, signed with the brand: its closing under the text, its name
    /// as the sender.
    fn signed(
        &self,
        kind: &'static str,
        to: String,
        subject: String,
        body: String,
    ) -> OutgoingMail {
        let mut mail = OutgoingMail {
            kind,
            to,
            subject,
            body,
            sender: Some(self.sender.to_owned()),
        };
        if !self.footer.is_empty() {
            mail.body.push_str("\n-- \n");
            mail.body.push_str(self.footer);
            mail.body.push('\n');
        }
        mail
    }

    pub fn verify_email(&self, to: &Email, name: &str, token: &str) -> OutgoingMail {
        let link = format!("{}/verify-email?token={token}", self.public_url);
        self.signed(
            "verify_email",
            to.to_string(),
            td_string!(
                self.locale,
                mail.verify_email_subject,
                product = self.product
            ),
            td_string!(
                self.locale,
                mail.verify_email_body,
                name = name,
                link = link,
                product = self.product
            ),
        )
    }

    pub fn already_registered(&self, to: &Email, name: &str) -> OutgoingMail {
        let signin = format!("{}/signin", self.public_url);
        let reset = format!("{}/forgot-password", self.public_url);
        self.signed(
            "already_registered",
            to.to_string(),
            td_string!(
                self.locale,
                mail.already_registered_subject,
                product = self.product
            ),
            td_string!(
                self.locale,
                mail.already_registered_body,
                name = name,
                product = self.product,
                signin = signin,
                reset = reset
            ),
        )
    }

    pub fn reset_password(&self, to: &Email, name: &str, token: &str) -> OutgoingMail {
        let link = format!("{}/reset-password?token={token}", self.public_url);
        self.signed(
            "reset_password",
            to.to_string(),
            td_string!(
                self.locale,
                mail.reset_password_subject,
                product = self.product
            ),
            td_string!(
                self.locale,
                mail.reset_password_body,
                name = name,
                link = link
            ),
        )
    }

    pub fn sign_in_link(&self, to: &Email, name: &str, token: &str, code: &str) -> OutgoingMail {
        let link = format!("{}/signin/email?token={token}", self.public_url);
        self.signed(
            "sign_in_link",
            to.to_string(),
            td_string!(
                self.locale,
                mail.sign_in_link_subject,
                product = self.product,
                code = code
            ),
            td_string!(
                self.locale,
                mail.sign_in_link_body,
                name = name,
                code = code,
                link = link
            ),
        )
    }

    /// The name a sign-in link greets an address without an account by ("Hello there,").
    pub fn no_name(&self) -> &'static str {
        td_string!(self.locale, mail.sign_in_link_no_name)
    }

    pub fn second_factor_code(&self, to: &Email, name: &str, code: &str) -> OutgoingMail {
        self.signed(
            "second_factor_code",
            to.to_string(),
            td_string!(
                self.locale,
                mail.second_factor_code_subject,
                product = self.product,
                code = code
            ),
            td_string!(
                self.locale,
                mail.second_factor_code_body,
                name = name,
                code = code,
                public_url = self.public_url
            ),
        )
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
        self.signed(
            "new_sign_in",
            to.to_string(),
            td_string!(
                self.locale,
                mail.new_sign_in_subject,
                product = self.product
            ),
            td_string!(
                self.locale,
                mail.new_sign_in_body,
                name = name,
                product = self.product,
                device = device,
                place = place,
                when = when,
                reset = reset
            ),
        )
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
        self.signed(
            "factors_changed",
            to.to_string(),
            td_string!(
                self.locale,
                mail.factors_changed_subject,
                product = self.product
            ),
            td_string!(
                self.locale,
                mail.factors_changed_body,
                name = name,
                product = self.product,
                what = what.words(self.locale),
                reset = reset
            ),
        )
    }

    pub fn password_changed(&self, to: &Email, name: &str) -> OutgoingMail {
        let reset = format!("{}/forgot-password", self.public_url);
        self.signed(
            "password_changed",
            to.to_string(),
            td_string!(
                self.locale,
                mail.password_changed_subject,
                product = self.product
            ),
            td_string!(
                self.locale,
                mail.password_changed_body,
                name = name,
                product = self.product,
                reset = reset
            ),
        )
    }

    /// Told to the old address when staff moved the account to `new_address` (shown masked,
    /// in case the old address now reaches someone else).
    pub fn email_changed(&self, to: &Email, name: &str, new_address: &str) -> OutgoingMail {
        self.signed(
            "email_changed",
            to.to_string(),
            td_string!(
                self.locale,
                mail.email_changed_subject,
                product = self.product
            ),
            td_string!(
                self.locale,
                mail.email_changed_body,
                name = name,
                product = self.product,
                new_address = new_address
            ),
        )
    }

    /// The link that proves a new address the owner asked to move their account to.
    pub fn confirm_new_email(&self, to: &Email, name: &str, token: &str) -> OutgoingMail {
        let link = format!("{}/confirm-email-change?token={token}", self.public_url);
        self.signed(
            "confirm_new_email",
            to.to_string(),
            td_string!(
                self.locale,
                mail.confirm_new_email_subject,
                product = self.product
            ),
            td_string!(
                self.locale,
                mail.confirm_new_email_body,
                name = name,
                product = self.product,
                link = link
            ),
        )
    }

    /// Told to the owner of an address someone asked to move another account to.
    pub fn email_change_to_taken(&self, to: &Email, name: &str) -> OutgoingMail {
        self.signed(
            "email_change_to_taken",
            to.to_string(),
            td_string!(
                self.locale,
                mail.email_change_to_taken_subject,
                product = self.product
            ),
            td_string!(
                self.locale,
                mail.email_change_to_taken_body,
                name = name,
                product = self.product
            ),
        )
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
        self.signed(
            "email_changed_by_owner",
            to.to_string(),
            td_string!(
                self.locale,
                mail.email_changed_by_owner_subject,
                product = self.product
            ),
            td_string!(
                self.locale,
                mail.email_changed_by_owner_body,
                name = name,
                product = self.product,
                new_address = new_address,
                link = link
            ),
        )
    }

    /// An invitation to join the staff: the one-time link that sets the password.
    pub fn staff_invite(&self, to: &Email, role: &str, link: &str) -> OutgoingMail {
        self.signed(
            "staff_invite",
            to.to_string(),
            td_string!(
                self.locale,
                mail.staff_invite_subject,
                product = self.product
            ),
            td_string!(
                self.locale,
                mail.staff_invite_body,
                role = role,
                product = self.product,
                link = link
            ),
        )
    }

    /// The account is set to be deleted on `due` (as pages show a moment); a sign-in before
    /// then offers to cancel.
    pub fn deletion_scheduled(&self, to: &Email, name: &str, due: &str) -> OutgoingMail {
        let sign_in = format!("{}/signin", self.public_url);
        self.signed(
            "deletion_scheduled",
            to.to_string(),
            td_string!(
                self.locale,
                mail.deletion_scheduled_subject,
                product = self.product
            ),
            td_string!(
                self.locale,
                mail.deletion_scheduled_body,
                name = name,
                product = self.product,
                due = due,
                sign_in = sign_in
            ),
        )
    }

    /// The last message: the account is gone. The outbox forgets it once delivered.
    pub fn account_erased(&self, to: &str, name: &str) -> OutgoingMail {
        self.signed(
            ERASED_KIND,
            to.to_owned(),
            td_string!(
                self.locale,
                mail.account_erased_subject,
                product = self.product
            ),
            td_string!(
                self.locale,
                mail.account_erased_body,
                name = name,
                product = self.product
            ),
        )
    }

    /// The notice of a breach response: the business's words (as written, in whatever
    /// language the business wrote them), then what happens next.
    pub fn breach_notice(&self, to: &Email, name: &str, notice: &str) -> OutgoingMail {
        let reset = format!("{}/forgot-password", self.public_url);
        self.signed(
            "breach_notice",
            to.to_string(),
            td_string!(
                self.locale,
                mail.breach_notice_subject,
                product = self.product
            ),
            td_string!(
                self.locale,
                mail.breach_notice_body,
                name = name,
                notice = notice,
                reset = reset
            ),
        )
    }
}
