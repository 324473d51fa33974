-- Closing the holes an attacker finds: pre-hijacking claims, account lockout across windows,
-- grants that end (absolute refresh lifetime, revocation by grant), PKCE for every client,
-- outboxes that forget what they delivered, the CLI as an audited actor, and the master key's
-- fingerprint.

-- Credentials attached to an account before its address was proven (registration) belong to
-- the browser that attached them: the SHA-256 of a claim kept in that browser's session. When
-- the address is proven from any other browser, those credentials are removed.
ALTER TABLE users
    ADD COLUMN unproven_claim_hash bytea,
    -- Consecutive failed password sign-ins across lockout windows; at 100 the password is
    -- locked until a reset or an administrator's unlock (NIST 800-63B §5.2.2).
    ADD COLUMN failed_sign_ins integer NOT NULL DEFAULT 0,
    ADD COLUMN password_locked_at timestamptz;

-- A refresh token family ends at an absolute time, however often it rotates.
ALTER TABLE refresh_tokens ADD COLUMN family_expires_at timestamptz;
UPDATE refresh_tokens SET family_expires_at = expires_at;
ALTER TABLE refresh_tokens ALTER COLUMN family_expires_at SET NOT NULL;
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id) WHERE revoked_at IS NULL;

-- The grant a code exchange starts: its refresh family has this id, and every access token of
-- the grant carries it (`gid`), so revoking the grant revokes them all. It is found through the
-- code or the person, never by itself: left unindexed, setting it as the code is used up keeps
-- that update a heap-only one.
ALTER TABLE authorization_codes ADD COLUMN grant_id uuid;
CREATE INDEX authorization_codes_user ON authorization_codes (user_id);

-- PKCE is required of every client; a legacy confidential client that sends a nonce may be
-- registered without it.
ALTER TABLE oauth_clients ADD COLUMN pkce_required boolean NOT NULL DEFAULT true;

-- A grant that outlived its browser sign-in (offline access) is ended without a sid.
ALTER TABLE logout_outbox ALTER COLUMN sid DROP NOT NULL;

-- Outboxes keep a message's text only until it is delivered (or given up); the kind says what
-- it was afterwards.
ALTER TABLE mail_outbox
    ADD COLUMN kind text NOT NULL DEFAULT 'mail',
    ALTER COLUMN subject DROP NOT NULL,
    ALTER COLUMN body_text DROP NOT NULL;
UPDATE mail_outbox SET subject = NULL, body_text = NULL WHERE delivered_at IS NOT NULL;
ALTER TABLE sms_outbox ALTER COLUMN body DROP NOT NULL;
UPDATE sms_outbox SET body = NULL WHERE delivered_at IS NOT NULL OR abandoned_at IS NOT NULL;

-- Who acted when no person did: 'cli' for the command line.
ALTER TABLE audit_events ADD COLUMN actor text;

-- The fingerprint of the master key the database was set up with (HMAC of a constant under
-- it): a process with another key refuses to run.
CREATE TABLE master_key_fingerprint (
    id          boolean PRIMARY KEY DEFAULT true CHECK (id),
    fingerprint bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
