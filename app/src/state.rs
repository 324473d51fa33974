//! `AppState`: what every request handler and server function shares.

use std::sync::Arc;

use sqlx::PgPool;
use tokio::sync::Notify;

use webauthn_rs::Webauthn;

use crate::domain::{
    audit::chain::ChainKey,
    branding::BrandCache,
    directory::policies::{DecisionCache, PolicyCache},
    hashing::PasswordHasher,
    master_key,
    mfa::recovery_codes::RecoveryCodeKey,
    oidc::{
        client_cache::ClientCache, clients::ClientSecretKey, dpop::NonceKey, jws::KeyRing,
        person_cache::PersonCache, revoked::RevokedTokens, subjects::SubjectKey,
    },
    otp::CodeKey,
    passkeys,
    proof_of_work::ProofKey,
    replica::Replica,
    risk::RiskSources,
    secrets::SecretBox,
    settings::SettingsCache,
    social::upstream::Upstream,
};

/// Settings the application logic needs (the process-level ones live in the server's config).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Base URL for links in mail and the OIDC issuer. No trailing slash.
    pub public_url: String,
    /// How long a refresh token family lives at most, however often it rotates.
    pub refresh_family_lifetime: time::Duration,
    /// Development delivery of mail: kept for the mail outbox page instead of being sent; the
    /// page exists only then.
    pub dev_mail: bool,
    /// Development delivery of texts: kept for the SMS outbox page (which exists only then).
    pub dev_sms: bool,
    /// Whether texts can be sent at all (a gateway, or development delivery).
    pub sms_available: bool,
    /// The countries (ISO 3166 alpha-2) texts may go to; `None`: every country.
    pub sms_countries: Option<Vec<String>>,
}

impl Settings {
    /// The defaults for `public_url`: refresh families live 30 days, mail and texts are really
    /// sent.
    pub fn new(public_url: String) -> Self {
        Self {
            public_url,
            refresh_family_lifetime: time::Duration::days(30),
            dev_mail: false,
            dev_sms: false,
            sms_available: true,
            sms_countries: None,
        }
    }
}

/// Shared state, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: PgPool,
    pub settings: Arc<Settings>,
    pub passwords: PasswordHasher,
    /// Wakes the mail worker when a transaction has queued mail.
    pub mail_queued: Arc<Notify>,
    /// Wakes the SMS worker when a transaction has queued a text.
    pub sms_queued: Arc<Notify>,
    /// Wakes the logout worker when back-channel logout notices were queued.
    pub logout_queued: Arc<Notify>,
    /// Wakes the breach response worker when a response was started.
    pub breach_queued: Arc<Notify>,
    /// Wakes the import worker when the console queued a customer import.
    pub import_queued: Arc<Notify>,
    /// Wakes the data export worker.
    pub export_queued: Arc<Notify>,
    /// Hashes short one-time codes (derived from the master key).
    pub code_key: CodeKey,
    /// The WebAuthn relying party (the public URL's host).
    pub webauthn: Arc<Webauthn>,
    /// Seals secrets stored in the database (derived from the master key).
    pub secrets: SecretBox,
    /// The outbound client and caches for upstream identity providers.
    pub upstream: Arc<Upstream>,
    /// Seals the OpenID provider's private signing keys.
    pub key_secrets: SecretBox,
    /// The OpenID provider's signing keys, parsed, with the JWKS ready to send.
    pub keys: Arc<KeyRing>,
    /// Hashes OAuth client secrets.
    pub client_key: ClientSecretKey,
    /// Derives pairwise subject identifiers.
    pub subjects: SubjectKey,
    /// Registered clients in memory for the app-facing endpoints.
    pub clients: Arc<ClientCache>,
    /// People's claims in memory for ID tokens and userinfo.
    pub people: Arc<PersonCache>,
    /// Every live access token revocation, in memory while change notices arrive.
    pub revoked: Arc<RevokedTokens>,
    /// The sign-in policy (`auth_settings`), in memory while change notices arrive.
    pub auth_settings: Arc<SettingsCache>,
    /// The brands pages wear, in memory while change notices arrive.
    pub brands: Arc<BrandCache>,
    /// A streaming replica for the reads that may lag (`domain::replica`), when configured.
    pub replica: Option<Arc<Replica>>,
    /// Apps' parsed Cedar policies, by app and version.
    pub policies: Arc<PolicyCache>,
    /// Recent policy decisions, by the hash of what each depends on.
    pub decisions: Arc<DecisionCache>,
    /// Seals the secrets of people's authenticator apps.
    pub factor_secrets: SecretBox,
    /// Seals people's data exports until they are downloaded.
    pub export_secrets: SecretBox,
    /// Hashes recovery codes.
    pub recovery_key: RecoveryCodeKey,
    /// What the risk engine reads besides the database (GeoIP, bad networks, breach range).
    pub risk: Arc<RiskSources>,
    /// Signs proof-of-work challenges.
    pub proof_key: ProofKey,
    /// Seals the audit trail's hash chain.
    pub audit_chain: ChainKey,
    /// Makes and checks DPoP nonces.
    pub dpop_nonces: NonceKey,
}

impl AppState {
    pub fn new(
        db: PgPool,
        settings: Settings,
        passwords: PasswordHasher,
        master_key: &[u8; 32],
    ) -> anyhow::Result<Self> {
        let webauthn = passkeys::relying_party(&settings.public_url, "Keyhaven")?;
        Ok(Self {
            db,
            settings: Arc::new(settings),
            passwords,
            mail_queued: Arc::new(Notify::new()),
            sms_queued: Arc::new(Notify::new()),
            logout_queued: Arc::new(Notify::new()),
            breach_queued: Arc::new(Notify::new()),
            import_queued: Arc::new(Notify::new()),
            export_queued: Arc::new(Notify::new()),
            code_key: CodeKey::derive(master_key),
            webauthn,
            secrets: SecretBox::derive(master_key, master_key::UPSTREAM_SECRETS),
            upstream: Arc::new(Upstream::new()?),
            key_secrets: SecretBox::derive(master_key, master_key::SIGNING_KEYS),
            keys: Arc::new(KeyRing::default()),
            client_key: ClientSecretKey::derive(master_key),
            subjects: SubjectKey::derive(master_key),
            clients: Arc::new(ClientCache::default()),
            people: Arc::new(PersonCache::default()),
            revoked: Arc::new(RevokedTokens::default()),
            auth_settings: Arc::new(SettingsCache::default()),
            brands: Arc::new(BrandCache::default()),
            replica: None,
            policies: Arc::new(PolicyCache::default()),
            decisions: Arc::new(DecisionCache::default()),
            factor_secrets: SecretBox::derive(master_key, master_key::FACTOR_SECRETS),
            export_secrets: SecretBox::derive(master_key, master_key::DATA_EXPORTS),
            recovery_key: RecoveryCodeKey::derive(master_key),
            risk: Arc::new(RiskSources::default()),
            proof_key: ProofKey::derive(master_key),
            audit_chain: ChainKey::derive(master_key),
            dpop_nonces: NonceKey::derive(master_key),
        })
    }
}
