-- Client authentication with private_key_jwt (RFC 7523, OpenID Connect Core §9): a client may
-- register public keys instead of a secret, and each assertion it signs is accepted once.

ALTER TABLE oauth_clients ADD COLUMN jwks jsonb;
ALTER TABLE oauth_clients DROP CONSTRAINT oauth_clients_check;
ALTER TABLE oauth_clients ADD CONSTRAINT oauth_clients_credentials CHECK (
    CASE client_type
        WHEN 'public' THEN secret_hash IS NULL AND jwks IS NULL
        ELSE (secret_hash IS NULL) <> (jwks IS NULL)
    END
);

-- The `jti` of every client assertion seen, until it expires (replays are refused).
CREATE TABLE client_assertions (
    client_id   text NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    jti         text NOT NULL,
    expires_at  timestamptz NOT NULL,
    PRIMARY KEY (client_id, jti)
);
CREATE INDEX client_assertions_expiry ON client_assertions (expires_at);
