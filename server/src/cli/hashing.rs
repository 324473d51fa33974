//! `server hashing ceiling`: the raw argon2id verify rate of this machine, with the cost every
//! password is hashed with, straight through the argon2 crate (no server, no queue): the
//! ceiling a node's password sign-ins can approach, for sizing nodes and for the benchmarks.
//! `server hashing floor`: the least a durable password sign-in costs on this machine, for
//! the benchmarks to set the whole sign-in against.

use std::{
    sync::atomic::{AtomicBool, AtomicU64, Ordering},
    time::{Duration, Instant},
};

use anyhow::anyhow;
use app::domain::hashing::{LANES, MEMORY_KIB, PASSES};
use argon2::{
    password_hash::{Output, PasswordHasher, SaltString},
    Algorithm, Argon2, Block, Params, PasswordHash, Version,
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
    /// Sign `email` in with `password` over and over for `seconds`, `concurrency` at a time,
    /// doing only what no durable password sign-in can skip: read the account by its address,
    /// verify the password (through the server's hasher), commit a new session row. No HTTP,
    /// no page, no audit, no risk. Prints the rate as JSON.
    Floor {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: String,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[arg(long, default_value_t = 4)]
        concurrency: usize,
    },
}

impl HashingCommand {
    /// Whether the command needs the configuration and the database.
    pub fn needs_database(&self) -> bool {
        matches!(self, Self::Floor { .. })
    }
}

/// Runs a command that needs no database (see [`HashingCommand::needs_database`]).
pub fn run(command: HashingCommand) -> anyhow::Result<()> {
    match command {
        HashingCommand::Ceiling { seconds, threads } => ceiling(seconds, threads),
        HashingCommand::Floor { .. } => Err(anyhow!("the floor needs the database")),
    }
}

/// The raw verify loop. Each thread keeps its working memory from one verify to the next, as
/// the server's hasher does: a loop that allocated and zeroed 19 MiB per verify would run
/// slower than the server hashes, and flatter every ratio set against it.
fn ceiling(seconds: u64, threads: Option<usize>) -> anyhow::Result<()> {
    let threads = threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None).map_err(|e| anyhow!("{e}"))?;
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
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
                let expected = parsed.hash.expect("a hash just made has its output");
                let mut salt = [0u8; 64];
                let salt = parsed
                    .salt
                    .expect("a hash just made has its salt")
                    .decode_b64(&mut salt)
                    .expect("a salt just made decodes");
                let mut memory = vec![Block::default(); params.block_count()];
                let mut out = vec![0u8; expected.len()];
                while !stop.load(Ordering::Relaxed) {
                    argon2
                        .hash_password_into_with_memory(password, salt, &mut out, &mut memory[..])
                        .expect("the parameters hashed once already");
                    let computed = Output::new(&out).expect("an output of the stored length");
                    assert!(computed == expected, "the password matches its own hash");
                    verifies.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        std::thread::sleep(Duration::from_secs(seconds));
        stop.store(true, Ordering::Relaxed);
    });
    print_rate(threads, started, verifies.load(Ordering::Relaxed));
    Ok(())
}

/// The durable sign-in's floor (see [`HashingCommand::Floor`]); the session rows it commits
/// carry no person and expire within a minute.
pub async fn floor(state: &app::state::AppState, command: HashingCommand) -> anyhow::Result<()> {
    use app::domain::{email::Email, hashing::Verification, password::Password, users};
    use tower_sessions::{
        session::{Id, Record},
        SessionStore,
    };
    let HashingCommand::Floor {
        email,
        password,
        seconds,
        concurrency,
    } = command
    else {
        return run(command);
    };
    let email = Email::parse(&email).map_err(|e| anyhow!("{e}"))?;
    let password = Password::new(password);
    // The server's hasher with the server's slots (one per core), but nothing shed: the floor
    // measures the work, not the overload policy.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let passwords = app::domain::hashing::PasswordHasher::new(cores)?;
    let store = app::domain::sessions::PgSessionStore::new(state.db.clone());
    let signed_in = std::sync::Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let mut loops = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let (db, email, password) = (state.db.clone(), email.clone(), password.clone());
        let passwords = passwords.clone();
        let (store, signed_in) = (store.clone(), signed_in.clone());
        loops.spawn(async move {
            while Instant::now() < until {
                let user = users::find_by_email(&db, &email)
                    .await?
                    .ok_or_else(|| anyhow!("no account has that address"))?;
                let verification = passwords
                    .verify(&password, user.password_hash.as_deref())
                    .await
                    .map_err(|e| anyhow!("{e}"))?;
                if verification == Verification::Mismatch {
                    return Err(anyhow!("the password does not match"));
                }
                let mut record = Record {
                    id: Id::default(),
                    data: Default::default(),
                    expiry_date: time::OffsetDateTime::now_utc() + time::Duration::minutes(1),
                };
                store
                    .create(&mut record)
                    .await
                    .map_err(|e| anyhow!("{e}"))?;
                signed_in.fetch_add(1, Ordering::Relaxed);
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = loops.join_next().await {
        done??;
    }
    print_rate(concurrency, started, signed_in.load(Ordering::Relaxed));
    Ok(())
}

fn print_rate(threads: usize, started: Instant, done: u64) {
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({
            "threads": threads,
            "seconds": elapsed,
            "verifies": done,
            "per_second": done as f64 / elapsed,
        })
    );
}
