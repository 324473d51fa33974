-- DPoP (RFC 9449): tokens bound to a key the client proves it holds. Refresh tokens issued
-- with a proof stay bound to its key; each proof's `jti` is accepted once.

ALTER TABLE oauth_clients ADD COLUMN require_dpop boolean NOT NULL DEFAULT false;
ALTER TABLE refresh_tokens ADD COLUMN dpop_jkt text;

CREATE TABLE dpop_proofs (
    jkt         text NOT NULL,
    jti         text NOT NULL,
    expires_at  timestamptz NOT NULL,
    PRIMARY KEY (jkt, jti)
);
CREATE INDEX dpop_proofs_expiry ON dpop_proofs (expires_at);
