//! The operators' measures: the names of every metric the service exposes at `/metrics`, and
//! the counters the domain keeps through the `metrics` facade (sign-ins by method and outcome,
//! second-factor challenges, risk decisions, tokens by grant). Nothing is kept unless the server
//! installed its recorder (`server/src/metrics.rs`, which also measures HTTP latency and reads
//! the gauges at scrape time). Every label comes from a fixed set: never an address, an id, a
//! path or a token.

use metrics::counter;

use super::{assurance::Factor, authentication::Method, risk::score::Decision};

/// Sign-in attempts by `method` and `outcome` ([`SignInOutcome`]).
pub const SIGN_INS: &str = "ciam_sign_ins_total";
/// Second-factor challenges by `factor` and `outcome` ([`ChallengeOutcome`]).
pub const MFA_CHALLENGES: &str = "ciam_mfa_challenges_total";
/// The risk engine's decisions by `decision` (`allow`, `challenge`, `block`).
pub const RISK_DECISIONS: &str = "ciam_risk_decisions_total";
/// Token responses by `grant` ([`TokenGrant`]).
pub const TOKENS_ISSUED: &str = "ciam_tokens_issued_total";
/// How long requests take, by `method`, `route` (the route's template, or `unmatched`) and
/// `status` (its class: `2xx`, `4xx`, ...).
pub const HTTP_REQUEST_DURATION: &str = "ciam_http_request_duration_seconds";
/// Rows waiting for delivery, by `outbox` (read at scrape time).
pub const OUTBOX_PENDING: &str = "ciam_outbox_pending";
/// Age in seconds of the oldest row waiting, by `outbox` (0 when none waits).
pub const OUTBOX_OLDEST: &str = "ciam_outbox_oldest_seconds";
/// The database pool's open connections, by `state` (`in_use`, `idle`).
pub const DB_POOL_CONNECTIONS: &str = "ciam_db_pool_connections";
/// The most connections the database pool opens.
pub const DB_POOL_MAX: &str = "ciam_db_pool_max_connections";
/// Password hashes (argon2id) running now.
pub const PASSWORD_HASHING_IN_PROGRESS: &str = "ciam_password_hashing_in_progress";
/// Password hashes waiting for a free slot.
pub const PASSWORD_HASHING_WAITING: &str = "ciam_password_hashing_waiting";

/// How a sign-in attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInOutcome {
    /// Signed in.
    Success,
    /// A second factor was asked for first.
    Challenged,
    /// Refused: wrong credentials or code, an unverified address, a declined question.
    Failure,
    /// Refused: the account, or its password, is locked.
    Locked,
    /// Refused: too many failures from the account or the network for now.
    Throttled,
    /// Refused by the risk engine.
    Blocked,
    /// Refused at once as busy: the password hashing was saturated (an overload being shed).
    Shed,
}

impl SignInOutcome {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Challenged => "challenged",
            Self::Failure => "failure",
            Self::Locked => "locked",
            Self::Throttled => "throttled",
            Self::Blocked => "blocked",
            Self::Shed => "shed",
        }
    }

    /// What a refusal for `reason` (as the audit trail words it) counts as.
    pub fn of_refusal(reason: &str) -> Self {
        match reason {
            "account_locked" | "locked" => Self::Locked,
            "throttled" => Self::Throttled,
            "risk_blocked" => Self::Blocked,
            _ => Self::Failure,
        }
    }
}

/// Counts a sign-in attempt by `method` that ended with `outcome`.
pub fn sign_in(method: Method, outcome: SignInOutcome) {
    counter!(SIGN_INS, "method" => method.as_str(), "outcome" => outcome.as_str()).increment(1);
}

/// What became of a second-factor challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeOutcome {
    /// A sign-in or a step-up asked for a second factor (counted with the factor `any`).
    Issued,
    /// The factor was proven.
    Passed,
    /// A wrong (or replayed) code.
    Failed,
}

impl ChallengeOutcome {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Issued => "issued",
            Self::Passed => "passed",
            Self::Failed => "failed",
        }
    }
}

/// The factor label of a challenge issued before the person chose a factor.
pub const ANY_FACTOR: &str = "any";

/// The label value of `factor`.
pub fn factor_label(factor: Factor) -> &'static str {
    match factor {
        Factor::Password => "password",
        Factor::Email => "email",
        Factor::Sms => "sms",
        Factor::Totp => "totp",
        Factor::RecoveryCode => "recovery_code",
        Factor::Passkey => "passkey",
        Factor::Federated => "federated",
    }
}

/// Counts a second-factor challenge's `outcome` for `factor` (a [`factor_label`], or
/// [`ANY_FACTOR`] when it is issued).
pub fn mfa_challenge(factor: &'static str, outcome: ChallengeOutcome) {
    counter!(MFA_CHALLENGES, "factor" => factor, "outcome" => outcome.as_str()).increment(1);
}

/// Counts one of the risk engine's decisions.
pub fn risk_decision(decision: Decision) {
    let label = match decision {
        Decision::Allow => "allow",
        Decision::StepUp => "challenge",
        Decision::Block => "block",
    };
    counter!(RISK_DECISIONS, "decision" => label).increment(1);
}

/// The grant types of the token endpoint, as labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenGrant {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
}

impl TokenGrant {
    /// The label value: the `grant_type` (RFC 6749 §4.1.3, §6, §4.4).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
            Self::ClientCredentials => "client_credentials",
        }
    }
}

/// Counts a token response of `grant`.
pub fn token_issued(grant: TokenGrant) {
    counter!(TOKENS_ISSUED, "grant" => grant.as_str()).increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_count_by_what_stopped_them() {
        assert_eq!(
            SignInOutcome::of_refusal("account_locked"),
            SignInOutcome::Locked
        );
        assert_eq!(SignInOutcome::of_refusal("locked"), SignInOutcome::Locked);
        assert_eq!(
            SignInOutcome::of_refusal("throttled"),
            SignInOutcome::Throttled
        );
        assert_eq!(
            SignInOutcome::of_refusal("risk_blocked"),
            SignInOutcome::Blocked
        );
        assert_eq!(
            SignInOutcome::of_refusal("invalid_credentials"),
            SignInOutcome::Failure
        );
        assert_eq!(
            SignInOutcome::of_refusal("consent_declined"),
            SignInOutcome::Failure
        );
    }
}
