//! What the strength meter shows about a password being typed, as both sides know it.

use serde::{Deserialize, Serialize};

/// The strength meter's reading of a password being typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StrengthReading {
    /// 0 (guessable) to 4 (very strong).
    pub score: u8,
    /// Whether the policy would accept it.
    pub acceptable: bool,
    pub message: String,
}
