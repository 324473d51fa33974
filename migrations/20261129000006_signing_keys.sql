-- Token signing keys of the OpenID provider. Each algorithm has one current key, the next one
-- (published ahead so caches learn it before it signs) and the previous one (published until
-- tokens it signed have expired). Private keys are sealed under a key derived from the master key.

CREATE TABLE signing_keys (
    kid             text PRIMARY KEY,
    alg             text NOT NULL CHECK (alg IN ('RS256', 'ES256', 'EdDSA')),
    -- AES-256-GCM (nonce || ciphertext) of the private key (PKCS#1 DER for RSA, PKCS#8 otherwise).
    private_key_enc bytea NOT NULL,
    -- The public key as a JWK, as the JWKS publishes it.
    public_jwk      jsonb NOT NULL,
    state           text NOT NULL CHECK (state IN ('next', 'current', 'previous', 'retired')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    activated_at    timestamptz,
    retired_at      timestamptz
);
CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys (alg) WHERE state = 'current';
CREATE UNIQUE INDEX signing_keys_one_next ON signing_keys (alg) WHERE state = 'next';
CREATE UNIQUE INDEX signing_keys_one_previous ON signing_keys (alg) WHERE state = 'previous';
