//! Proof of work: the puzzle a browser solves before a registration, or before a password
//! sign-in from a network that is trying many passwords. The server sets and checks it
//! (`domain::proof_of_work`); the browser solves it with [`search`]. An answer is
//! `"{challenge}.{counter}"`, and it solves the puzzle when its SHA-256 starts with `bits` zero
//! bits: finding one takes 2^bits hashes on average, checking it takes one.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A puzzle as the page receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Challenge {
    /// The server's signed challenge, opaque to the browser.
    pub challenge: String,
    /// The zero bits an answer's hash must start with.
    pub bits: u8,
}

/// The answer made of `challenge` and `counter`.
pub fn answer(challenge: &str, counter: u64) -> String {
    format!("{challenge}.{counter}")
}

/// The zero bits SHA-256 of `answer` starts with.
pub fn zero_bits(answer: &str) -> u32 {
    leading_zero_bits(&Sha256::digest(answer.as_bytes()))
}

fn leading_zero_bits(digest: &[u8]) -> u32 {
    let mut bits = 0;
    for byte in digest {
        bits += byte.leading_zeros();
        if *byte != 0 {
            break;
        }
    }
    bits
}

/// The first counter in `from..from + count` whose answer solves `puzzle`, if any. The browser
/// searches in slices so that the page stays responsive.
pub fn search(puzzle: &Challenge, from: u64, count: u64) -> Option<u64> {
    let mut prefix = Sha256::new();
    prefix.update(puzzle.challenge.as_bytes());
    prefix.update(b".");
    let mut digits = [0u8; 20];
    (from..from.saturating_add(count)).find(|&counter| {
        let mut hash = prefix.clone();
        hash.update(decimal(counter, &mut digits));
        leading_zero_bits(&hash.finalize()) >= u32::from(puzzle.bits)
    })
}

/// `n` in decimal, written into the end of `buf` (no allocation in the search loop).
fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[at..];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn puzzle(bits: u8) -> Challenge {
        Challenge {
            challenge: "register.8.1700000000.c2FsdA.bWFj".into(),
            bits,
        }
    }

    #[test]
    fn a_found_answer_has_the_zero_bits_asked_for() {
        for bits in [0, 4, 8, 12] {
            let p = puzzle(bits);
            let counter = search(&p, 0, 1 << 20).expect("an answer within 2^20 tries");
            assert!(zero_bits(&answer(&p.challenge, counter)) >= u32::from(bits));
        }
    }

    #[test]
    fn the_search_finds_the_first_answer_and_respects_its_range() {
        let p = puzzle(10);
        let first = search(&p, 0, 1 << 20).unwrap();
        assert_eq!(
            search(&p, 0, first),
            None,
            "nothing before the first answer"
        );
        assert_eq!(search(&p, first, 1), Some(first));
        for counter in 0..first {
            assert!(zero_bits(&answer(&p.challenge, counter)) < 10);
        }
    }

    #[test]
    fn counters_are_written_in_decimal() {
        let mut buf = [0u8; 20];
        assert_eq!(decimal(0, &mut buf), b"0");
        assert_eq!(decimal(907, &mut buf), b"907");
        assert_eq!(decimal(u64::MAX, &mut buf), u64::MAX.to_string().as_bytes());
    }

    #[test]
    fn leading_zero_bits_are_counted_across_bytes() {
        assert_eq!(leading_zero_bits(&[0x80, 0]), 0);
        assert_eq!(leading_zero_bits(&[0x01, 0xff]), 7);
        assert_eq!(leading_zero_bits(&[0, 0x20]), 10);
        assert_eq!(leading_zero_bits(&[0, 0]), 16);
    }
}
