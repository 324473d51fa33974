-- DPoP server nonces (RFC 9449 §8, §9): required of every proof by default (the safer choice);
-- the business may turn them off for apps that cannot send one. The nonces themselves are
-- stateless (a keyed hash of a five-minute window), so nothing else is stored.
ALTER TABLE auth_settings
    ADD COLUMN dpop_nonce_required boolean NOT NULL DEFAULT true;
