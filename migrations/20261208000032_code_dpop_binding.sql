-- DPoP authorization code binding (RFC 9449 §10): an authorization request may name the
-- thumbprint of the key the app will prove at the token endpoint; the code keeps it, and only a
-- proof of that key exchanges it.
ALTER TABLE authorization_codes
    ADD COLUMN dpop_jkt text CHECK (dpop_jkt ~ '^[A-Za-z0-9_-]{43}$');
