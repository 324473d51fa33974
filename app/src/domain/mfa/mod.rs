//! Second factors, each owning its table: authenticator apps (`totp`), recovery codes
//! (`recovery_codes`) and remembered devices (`remembered`); what a person has enrolled
//! (`factors`); who must use one (`policy`); the recent proof that changing how someone signs
//! in asks for (`freshness`); and enrolling or removing factors, each change audited and mailed
//! (`enrolment`). Passkeys (`passkeys`) count as a strong factor too. The sign-in step that
//! asks for a second factor is `authentication::second_step`.

pub mod enrolment;
pub mod factors;
pub mod freshness;
pub mod policy;
pub mod recovery_codes;
pub mod remembered;
pub mod totp;
