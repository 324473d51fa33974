-- Social sign-in: the upstream identity providers the business has configured, and the
-- upstream identities linked to each account.

CREATE TABLE social_providers (
    -- Short name used in URLs (/signin/social/<id>).
    id                 text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{0,31}$'),
    -- 'oidc' (any OpenID provider, by discovery), or a preset: google, apple, microsoft
    -- (OpenID Connect), github (plain OAuth 2.0).
    kind               text NOT NULL CHECK (kind IN ('oidc', 'google', 'apple', 'microsoft', 'github')),
    display_name       text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 60),
    -- The OpenID issuer (discovery is at <issuer>/.well-known/openid-configuration);
    -- NULL for plain OAuth 2.0 presets.
    issuer             text,
    client_id          text NOT NULL,
    -- AES-256-GCM under a key derived from the master key (nonce || ciphertext).
    client_secret_enc  bytea,
    scopes             text NOT NULL,
    enabled            boolean NOT NULL DEFAULT true,
    created_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE user_identities (
    id           uuid PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider_id  text NOT NULL REFERENCES social_providers (id) ON DELETE CASCADE,
    -- The provider's stable subject identifier for the person.
    subject      text NOT NULL,
    -- The address the provider reported, for display only.
    email        text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    UNIQUE (provider_id, subject),
    UNIQUE (user_id, provider_id)
);
CREATE INDEX user_identities_user ON user_identities (user_id);
