-- Passkeys (WebAuthn discoverable credentials) and the state of ceremonies in progress.

CREATE TABLE passkeys (
    credential_id bytea PRIMARY KEY,
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          text NOT NULL,
    passkey       jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz
);
CREATE INDEX passkeys_user ON passkeys (user_id);

-- A ceremony's server-side state lives here between its start and finish requests (any node
-- may serve either), is used once, and expires after five minutes.
CREATE TABLE webauthn_ceremonies (
    id           uuid PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('sign_in', 'register', 'sign_up')),
    user_id      uuid,
    email        text,
    display_name text,
    passkey_name text,
    state        jsonb NOT NULL,
    expires_at   timestamptz NOT NULL
);
CREATE INDEX webauthn_ceremonies_expiry ON webauthn_ceremonies (expires_at);
