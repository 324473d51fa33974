//! Realistic demo customers, made quickly (`server seed --customers N`): names and addresses
//! from common first and last names, creation spread over three years, most addresses
//! verified, some with a proven phone, most signed in lately. Rows go in through COPY, in
//! batches, all sharing one argon2id hash of the password given (so a load test can sign in
//! as any of them) or of a random one. Each run's addresses carry a run tag, so runs add up.

use std::fmt::Write as _;

use rand::{rngs::StdRng, Rng, SeedableRng};
use serde_json::json;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::{
    domain::{
        audit::{self, Actor, AuditEvent, Outcome},
        client::ClientInfo,
        password::NewPassword,
    },
    state::AppState,
};

const FIRST: &[&str] = &[
    "ada",
    "alan",
    "amara",
    "ana",
    "arjun",
    "astrid",
    "ben",
    "bianca",
    "carlos",
    "chen",
    "chloe",
    "dario",
    "diana",
    "elena",
    "emeka",
    "emma",
    "fatima",
    "felix",
    "grace",
    "hana",
    "hugo",
    "ines",
    "isaac",
    "ivan",
    "jade",
    "jamal",
    "jonas",
    "julia",
    "kai",
    "kenji",
    "lara",
    "leo",
    "lina",
    "lucas",
    "maya",
    "mateo",
    "mei",
    "mila",
    "nadia",
    "noah",
    "nora",
    "olga",
    "omar",
    "oscar",
    "paula",
    "priya",
    "rafael",
    "rosa",
    "sami",
    "sara",
    "sofia",
    "tariq",
    "tom",
    "valentina",
    "victor",
    "wei",
    "yara",
    "yusuf",
    "zara",
    "zoe",
];

const LAST: &[&str] = &[
    "abbott",
    "alvarez",
    "andersen",
    "bauer",
    "bianchi",
    "brown",
    "castro",
    "chen",
    "costa",
    "dubois",
    "eriksson",
    "fernandes",
    "fischer",
    "garcia",
    "gomez",
    "haddad",
    "hansen",
    "hughes",
    "ibrahim",
    "ivanova",
    "jensen",
    "kato",
    "kim",
    "kowalski",
    "larsen",
    "lee",
    "lopez",
    "martin",
    "meyer",
    "moreau",
    "murphy",
    "nakamura",
    "nguyen",
    "novak",
    "okafor",
    "olsen",
    "patel",
    "perez",
    "petrov",
    "quinn",
    "rossi",
    "santos",
    "schmidt",
    "silva",
    "smith",
    "sousa",
    "tanaka",
    "taylor",
    "torres",
    "vargas",
    "wagner",
    "walsh",
    "wang",
    "weber",
    "williams",
    "wilson",
    "yamamoto",
    "young",
    "zhang",
    "zimmermann",
];

const DOMAINS: &[&str] = &[
    "example.com",
    "example.net",
    "example.org",
    "mail.example",
    "post.example",
];

/// Rows sent per COPY.
const BATCH: usize = 20_000;

fn title(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

fn csv_time(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Appends one customer, as a CSV line of the COPY below, to `out`.
fn customer_line(out: &mut String, rng: &mut StdRng, tag: &str, n: u64, hash: &str) {
    let now = OffsetDateTime::now_utc();
    let first = FIRST[rng.gen_range(0..FIRST.len())];
    let last = LAST[rng.gen_range(0..LAST.len())];
    let domain = DOMAINS[rng.gen_range(0..DOMAINS.len())];
    let created = now - Duration::seconds(rng.gen_range(0..3 * 365 * 86_400));
    let verified = rng.gen_bool(0.85);
    let phone = rng
        .gen_bool(0.3)
        .then(|| format!("+1555{tag_digits}{n:07}", tag_digits = &tag[..3]));
    let age = (now - created).whole_seconds().max(1);
    let signed_in = (verified && rng.gen_bool(0.7))
        .then(|| now - Duration::seconds(rng.gen_range(0..age.min(90 * 86_400))));
    let name = format!("{} {}", title(first), title(last));
    let _ = writeln!(
        out,
        "{id},{first}.{last}.{n}.{tag}@{domain},{name},\"{hash}\",{verified},{phone},{phone_at},{created},{signed_in}",
        id = Uuid::new_v4(),
        verified = if verified { csv_time(created + Duration::hours(1)) } else { String::new() },
        phone_at = if phone.is_some() { csv_time(created + Duration::days(1)) } else { String::new() },
        phone = phone.unwrap_or_default(),
        created = csv_time(created),
        signed_in = signed_in.map(csv_time).unwrap_or_default(),
    );
}

/// Adds `count` customers; returns how many went in. Audited as `customers.seeded`.
pub async fn seed(
    state: &AppState,
    count: u64,
    password: Option<&NewPassword>,
    actor: Actor,
) -> anyhow::Result<u64> {
    let generated;
    let password = match password {
        Some(p) => p,
        None => {
            generated = NewPassword::parse(
                crate::domain::tokens::random_token(),
                &[],
                &crate::domain::password::PasswordPolicy::default(),
            )
            .map_err(|e| anyhow::anyhow!("a random password: {e}"))?;
            &generated
        }
    };
    let hash = state.passwords.hash(password).await?;
    let mut rng = StdRng::from_entropy();
    // Three digits for phone numbers, letters for addresses: unique per run.
    let tag = format!("{:03}{:04x}", rng.gen_range(0..1000), rng.gen::<u16>());
    let mut conn = state.db.acquire().await?;
    let mut done = 0u64;
    while done < count {
        let size = (count - done).min(BATCH as u64);
        let mut rows = String::with_capacity(size as usize * 200);
        for n in done..done + size {
            customer_line(&mut rows, &mut rng, &tag, n, &hash);
        }
        let mut copy = conn
            .copy_in_raw(
                "COPY users (id, email, display_name, password_hash, email_verified_at, phone,
                             phone_verified_at, created_at, last_sign_in_at)
                 FROM STDIN (FORMAT csv)",
            )
            .await?;
        copy.send(rows.as_bytes()).await?;
        copy.finish().await?;
        done += size;
    }
    let event = AuditEvent::new("customers.seeded", Outcome::Success)
        .by_actor(actor)
        .detail(json!({ "count": done, "tag": tag }));
    audit::record(&mut *conn, &ClientInfo::default(), event).await?;
    Ok(done)
}
