//! `server hashing ceiling`: the raw argon2id verify rate of this machine, with the cost every
//! password is hashed with, straight through the argon2 crate (no server, no queue): the
//! ceiling a node's password sign-ins can approach, for sizing nodes and for the benchmarks.

use std::{
    sync::atomic::{AtomicBool, AtomicU64, Ordering},
    time::{Duration, Instant},
};

use anyhow::anyhow;
use app::domain::hashing::{LANES, MEMORY_KIB, PASSES};
use argon2::{
    password_hash::{PasswordHasher, PasswordVerifier, SaltString},
    Algorithm, Argon2, Params, PasswordHash, Version,
};

#[derive(clap::Subcommand)]
pub enum HashingCommand {
    /// Verify one password over and over on `threads` threads for `seconds`; print the rate as
    /// JSON.
    Ceiling {
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// By default one per core.
        #[arg(long)]
        threads: Option<usize>,
    },
}

pub fn run(command: HashingCommand) -> anyhow::Result<()> {
    match command {
        HashingCommand::Ceiling { seconds, threads } => {
            let threads = threads
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
                .max(1);
            let argon2 = Argon2::new(
                Algorithm::Argon2id,
                Version::V0x13,
                Params::new(MEMORY_KIB, PASSES, LANES, None).map_err(|e| anyhow!("{e}"))?,
            );
            let password = b"the ceiling of a password sign-in";
            let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
            let stored = argon2
                .hash_password(password, &salt)
                .map_err(|e| anyhow!("hashing: {e}"))?
                .to_string();
            let verifies = AtomicU64::new(0);
            let stop = AtomicBool::new(false);
            let started = Instant::now();
            std::thread::scope(|scope| {
                for _ in 0..threads {
                    scope.spawn(|| {
                        let parsed = PasswordHash::new(&stored).expect("a hash just made parses");
                        while !stop.load(Ordering::Relaxed) {
                            argon2
                                .verify_password(password, &parsed)
                                .expect("the password matches its own hash");
                            verifies.fetch_add(1, Ordering::Relaxed);
                        }
                    });
                }
                std::thread::sleep(Duration::from_secs(seconds));
                stop.store(true, Ordering::Relaxed);
            });
            let elapsed = started.elapsed().as_secs_f64();
            let verifies = verifies.load(Ordering::Relaxed);
            println!(
                "{}",
                serde_json::json!({
                    "threads": threads,
                    "seconds": elapsed,
                    "verifies": verifies,
                    "per_second": verifies as f64 / elapsed,
                })
            );
            Ok(())
        }
    }
}
