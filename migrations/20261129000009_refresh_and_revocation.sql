-- Refresh tokens (rotated on every use; a family is revoked when an old one comes back) and
-- revoked access tokens (checked by userinfo and introspection until they would have expired).

CREATE TABLE refresh_tokens (
    token_hash  bytea PRIMARY KEY,
    family_id   uuid NOT NULL,
    client_id   text NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scopes      text[] NOT NULL,
    auth_time   timestamptz NOT NULL,
    -- The authorization code the family started from: presenting that code again revokes it.
    code_hash   bytea,
    expires_at  timestamptz NOT NULL,
    -- Set when the token was exchanged for its successor.
    used_at     timestamptz,
    revoked_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_code ON refresh_tokens (code_hash) WHERE code_hash IS NOT NULL;
CREATE INDEX refresh_tokens_expiry ON refresh_tokens (expires_at);

CREATE TABLE revoked_access_tokens (
    jti         uuid PRIMARY KEY,
    expires_at  timestamptz NOT NULL
);

-- Service clients may be given scopes of their own (for client_credentials).
ALTER TABLE oauth_clients ALTER COLUMN scopes SET DEFAULT '{}';
