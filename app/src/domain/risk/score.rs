//! Scoring, as a pure function: the signals of one sign-in attempt in, a score, a decision and
//! the reasons (each signal that counted, its weight, and plain words for the person) out. The
//! weights and thresholds live here and nowhere else.

use serde::{Deserialize, Serialize};

pub use super::travel::Travel;

/// What the engine observed about one sign-in attempt.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Signals {
    /// The account signed in before (without history, nothing is "new").
    pub history: bool,
    pub new_device: bool,
    pub new_network: bool,
    /// The country of this attempt, when the account was only ever seen in others.
    pub new_country: Option<String>,
    /// The country of this attempt, as far as the GeoIP database knows.
    pub country: Option<String>,
    /// Travel since the last sign-in that no traveller makes: the speed it would take (km/h)
    /// or, without coordinates, another country within the hour.
    pub impossible_travel: Option<Travel>,
    /// Failed passwords in the last 15 minutes: for this account, from this network, overall.
    pub account_failures: i32,
    pub network_failures: i32,
    pub global_failures: i32,
    /// The password is in a list of breached passwords.
    pub breached_password: bool,
    /// The address is in the configured list of known-bad networks.
    pub bad_network: bool,
    /// The browser says it is automated (a headless user agent).
    pub automation: bool,
}

/// What the engine decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Allow,
    /// A second factor first, even for someone who set up none (a mailed code).
    StepUp,
    Block,
}

crate::text_enum!(Decision {
    Allow => "allow",
    StepUp => "step_up",
    Block => "block",
});

/// One signal that counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    pub signal: String,
    pub weight: i32,
    /// Plain words for the person.
    pub words: String,
}

/// The score, the decision and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    pub score: i32,
    pub decision: Decision,
    pub reasons: Vec<Reason>,
}

/// Each signal's weight.
pub mod weight {
    /// A browser this account never signed in from. Alone it is only a note: people get new
    /// phones and clear cookies.
    pub const NEW_DEVICE: i32 = 15;
    /// A network (a /24 or /64) this account never signed in from.
    pub const NEW_NETWORK: i32 = 10;
    /// A country this account never signed in from. With a new device and network it reaches
    /// the step-up threshold: the typical account takeover from abroad.
    pub const NEW_COUNTRY: i32 = 35;
    /// Travel no traveller makes. With a new country it reaches the block threshold.
    pub const IMPOSSIBLE_TRAVEL: i32 = 60;
    /// 3 or more failed passwords for this account in 15 minutes.
    pub const ACCOUNT_FAILURES: i32 = 15;
    /// 10 or more (the account lock is near).
    pub const MANY_ACCOUNT_FAILURES: i32 = 30;
    /// 20 or more failed passwords from this network in 15 minutes, across accounts: a
    /// credential-stuffing run.
    pub const NETWORK_FAILURES: i32 = 25;
    /// 1000 or more failed passwords overall in 15 minutes: a surge.
    pub const GLOBAL_SURGE: i32 = 10;
    /// A password found in a breach list: whoever signs in may have read it there.
    pub const BREACHED_PASSWORD: i32 = 30;
    /// A network on the configured list of known-bad networks.
    pub const BAD_NETWORK: i32 = 50;
    /// A headless browser.
    pub const AUTOMATION: i32 = 20;
}

/// The counts at which the failure signals count.
pub mod counts {
    pub const ACCOUNT_FAILURES: i32 = 3;
    pub const MANY_ACCOUNT_FAILURES: i32 = 10;
    pub const NETWORK_FAILURES: i32 = 20;
    pub const GLOBAL_SURGE: i32 = 1000;
    /// Faster than an airliner over more than a short hop.
    pub const IMPOSSIBLE_KM_PER_HOUR: f64 = 900.0;
    /// Without coordinates: another country sooner than this is impossible travel.
    pub const COUNTRY_HOP_MINUTES: i64 = 60;
}

/// At or above `STEP_UP` a second factor is asked; at or above `BLOCK` the attempt is refused.
/// These are the defaults; the business may set its own (`settings`).
pub mod threshold {
    /// A new device, network and country together (60), or one strong signal with a weaker
    /// one: enough doubt to ask for a second factor, which a customer who is really abroad
    /// passes.
    pub const STEP_UP: i32 = 40;
    /// Impossible travel with a new country (95), or a known-bad network with a breached
    /// password (80) and anything else: no factor makes that attempt trustworthy.
    pub const BLOCK: i32 = 90;
}

/// The scores at which the engine asks for a second factor and refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    pub step_up: i32,
    pub block: i32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            step_up: threshold::STEP_UP,
            block: threshold::BLOCK,
        }
    }
}

/// Scores `s` against `t`.
pub fn assess(s: &Signals, t: Thresholds) -> Assessment {
    let mut reasons = Vec::new();
    let mut add = |signal: &str, weight: i32, words: String| {
        reasons.push(Reason {
            signal: signal.to_owned(),
            weight,
            words,
        });
    };
    if s.history && s.new_device {
        add(
            "new_device",
            weight::NEW_DEVICE,
            "a device you have not signed in from before".into(),
        );
    }
    if s.history && s.new_network {
        add(
            "new_network",
            weight::NEW_NETWORK,
            "a network you have not signed in from before".into(),
        );
    }
    if let Some(country) = s.new_country.as_ref().filter(|_| s.history) {
        add(
            "new_country",
            weight::NEW_COUNTRY,
            format!("a country you have not signed in from before ({country})"),
        );
    }
    if let Some(travel) = &s.impossible_travel {
        let from = travel.from_country.as_deref().unwrap_or("elsewhere");
        add(
            "impossible_travel",
            weight::IMPOSSIBLE_TRAVEL,
            format!(
                "{} minutes after a sign-in from {from}, too far to travel",
                travel.minutes
            ),
        );
    }
    if s.account_failures >= counts::MANY_ACCOUNT_FAILURES {
        add(
            "account_failures",
            weight::MANY_ACCOUNT_FAILURES,
            format!(
                "{} wrong passwords for your account just before",
                s.account_failures
            ),
        );
    } else if s.account_failures >= counts::ACCOUNT_FAILURES {
        add(
            "account_failures",
            weight::ACCOUNT_FAILURES,
            format!(
                "{} wrong passwords for your account just before",
                s.account_failures
            ),
        );
    }
    if s.network_failures >= counts::NETWORK_FAILURES {
        add(
            "network_failures",
            weight::NETWORK_FAILURES,
            "a network trying many accounts' passwords".into(),
        );
    }
    if s.global_failures >= counts::GLOBAL_SURGE {
        add(
            "global_surge",
            weight::GLOBAL_SURGE,
            "a surge of wrong passwords on our site".into(),
        );
    }
    if s.breached_password {
        add(
            "breached_password",
            weight::BREACHED_PASSWORD,
            "a password that appears in lists of breached passwords".into(),
        );
    }
    if s.bad_network {
        add(
            "bad_network",
            weight::BAD_NETWORK,
            "a network known for abuse".into(),
        );
    }
    if s.automation {
        add(
            "automation",
            weight::AUTOMATION,
            "a browser driven by a program".into(),
        );
    }
    let score = reasons.iter().map(|r| r.weight).sum();
    let decision = if score >= t.block {
        Decision::Block
    } else if score >= t.step_up {
        Decision::StepUp
    } else {
        Decision::Allow
    };
    Assessment {
        score,
        decision,
        reasons,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> Signals {
        Signals {
            history: true,
            ..Default::default()
        }
    }

    fn signals_of(a: &Assessment) -> Vec<&str> {
        a.reasons.iter().map(|r| r.signal.as_str()).collect()
    }

    #[test]
    fn a_regular_customer_on_their_usual_device_is_allowed_without_a_reason() {
        let a = assess(&known(), Thresholds::default());
        assert_eq!((a.score, a.decision), (0, Decision::Allow));
        assert!(a.reasons.is_empty());
    }

    #[test]
    fn nothing_is_new_for_an_account_without_history() {
        let s = Signals {
            history: false,
            new_device: true,
            new_network: true,
            new_country: Some("DE".into()),
            ..Default::default()
        };
        assert_eq!(assess(&s, Thresholds::default()).score, 0);
    }

    #[test]
    fn each_signal_weighs_what_the_table_says() {
        let cases: Vec<(Signals, &str, i32)> = vec![
            (
                Signals {
                    new_device: true,
                    ..known()
                },
                "new_device",
                weight::NEW_DEVICE,
            ),
            (
                Signals {
                    new_network: true,
                    ..known()
                },
                "new_network",
                weight::NEW_NETWORK,
            ),
            (
                Signals {
                    new_country: Some("FR".into()),
                    ..known()
                },
                "new_country",
                weight::NEW_COUNTRY,
            ),
            (
                Signals {
                    impossible_travel: Some(Travel {
                        from_country: Some("US".into()),
                        minutes: 5,
                        km_per_hour: None,
                    }),
                    ..known()
                },
                "impossible_travel",
                weight::IMPOSSIBLE_TRAVEL,
            ),
            (
                Signals {
                    account_failures: 3,
                    ..known()
                },
                "account_failures",
                weight::ACCOUNT_FAILURES,
            ),
            (
                Signals {
                    account_failures: 10,
                    ..known()
                },
                "account_failures",
                weight::MANY_ACCOUNT_FAILURES,
            ),
            (
                Signals {
                    network_failures: 20,
                    ..known()
                },
                "network_failures",
                weight::NETWORK_FAILURES,
            ),
            (
                Signals {
                    global_failures: 1000,
                    ..known()
                },
                "global_surge",
                weight::GLOBAL_SURGE,
            ),
            (
                Signals {
                    breached_password: true,
                    ..known()
                },
                "breached_password",
                weight::BREACHED_PASSWORD,
            ),
            (
                Signals {
                    bad_network: true,
                    ..known()
                },
                "bad_network",
                weight::BAD_NETWORK,
            ),
            (
                Signals {
                    automation: true,
                    ..known()
                },
                "automation",
                weight::AUTOMATION,
            ),
        ];
        for (signals, name, weight) in cases {
            let a = assess(&signals, Thresholds::default());
            assert_eq!(signals_of(&a), [name], "{name}");
            assert_eq!(a.score, weight, "{name}");
            assert!(!a.reasons[0].words.is_empty());
        }
        // Below the counts, failures do not count.
        let few = Signals {
            account_failures: 2,
            network_failures: 19,
            global_failures: 999,
            ..known()
        };
        assert_eq!(assess(&few, Thresholds::default()).score, 0);
    }

    #[test]
    fn a_new_device_from_a_new_country_steps_up() {
        let s = Signals {
            new_device: true,
            new_network: true,
            new_country: Some("BR".into()),
            ..known()
        };
        let a = assess(&s, Thresholds::default());
        assert_eq!(a.decision, Decision::StepUp);
        assert!(a.reasons.iter().any(|r| r.words.contains("(BR)")));
    }

    #[test]
    fn impossible_travel_to_a_new_country_is_blocked() {
        let s = Signals {
            new_network: true,
            new_country: Some("JP".into()),
            impossible_travel: crate::domain::risk::travel::impossible(
                10,
                None,
                Some("DE"),
                Some("JP"),
            ),
            ..known()
        };
        assert_eq!(assess(&s, Thresholds::default()).decision, Decision::Block);
    }

    #[test]
    fn the_business_thresholds_decide() {
        let s = Signals {
            new_device: true,
            new_network: true,
            ..known()
        };
        assert_eq!(assess(&s, Thresholds::default()).decision, Decision::Allow);
        let strict = Thresholds {
            step_up: 20,
            block: 25,
        };
        assert_eq!(assess(&s, strict).decision, Decision::Block);
        let wary = Thresholds {
            step_up: 25,
            block: 90,
        };
        assert_eq!(assess(&s, wary).decision, Decision::StepUp);
    }
}
