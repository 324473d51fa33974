-- Second factors: authenticator apps (TOTP), recovery codes, remembered devices, the MFA
-- policy, and the assurance (amr, acr) a sign-in carries into the apps' tokens.

-- Who must use a second factor: 'off', 'optional' (those who enrolled one), 'required'
-- (everyone), 'admins' (administrators; customers as they choose).
ALTER TABLE auth_settings
    ADD COLUMN mfa_policy text NOT NULL DEFAULT 'admins'
        CHECK (mfa_policy IN ('off', 'optional', 'required', 'admins'));

-- One authenticator app per account. The secret is sealed under a key derived from the master
-- key (bound to the account's id); `last_step` is the newest 30-second step a code was accepted
-- for, so no code is accepted twice.
CREATE TABLE totp_factors (
    user_id        uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret_sealed  bytea NOT NULL,
    last_step      bigint NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_used_at   timestamptz
);

-- Ten single-use recovery codes per set; HMAC-SHA-256 under a derived key (the codes carry 50
-- random bits, so a keyed fast hash suffices and a copy of the table alone reveals nothing).
CREATE TABLE recovery_codes (
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  bytea NOT NULL,
    used_at    timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, code_hash)
);

-- "Remember this device for 30 days": the browser's opaque device cookie (its SHA-256 here)
-- bound to one account; forgetting the row revokes it.
CREATE TABLE remembered_devices (
    id           uuid PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   bytea NOT NULL,
    device       text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    UNIQUE (user_id, token_hash)
);
CREATE INDEX remembered_devices_expiry ON remembered_devices (expires_at);

-- How the person authenticated travels with the code into the grant and every refresh, for
-- the ID tokens' `amr` and `acr`.
ALTER TABLE authorization_codes
    ADD COLUMN amr text[] NOT NULL DEFAULT '{}',
    ADD COLUMN acr text;
ALTER TABLE refresh_tokens
    ADD COLUMN amr text[] NOT NULL DEFAULT '{}',
    ADD COLUMN acr text;

-- An app registered to always require multi-factor sign-in.
ALTER TABLE oauth_clients ADD COLUMN require_mfa boolean NOT NULL DEFAULT false;
