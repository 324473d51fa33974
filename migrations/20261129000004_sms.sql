-- SMS one-time codes: a verified phone number on the account, the codes sent to it, and the
-- SMS outbox the sender worker delivers from.

-- Set only once the number is proven by a code; one account per number.
ALTER TABLE users
    ADD COLUMN phone             text,
    ADD COLUMN phone_verified_at timestamptz;
CREATE UNIQUE INDEX users_phone ON users (phone) WHERE phone IS NOT NULL;

CREATE TABLE sms_codes (
    id          uuid PRIMARY KEY,
    -- 'verify_phone': proving a number for the profile; 'sign_in': signing in with it.
    purpose     text NOT NULL CHECK (purpose IN ('verify_phone', 'sign_in')),
    phone       text NOT NULL,
    -- NULL for a sign-in request to a number no account uses (nothing was sent).
    user_id     uuid REFERENCES users (id) ON DELETE CASCADE,
    code_hash   bytea NOT NULL,
    attempts    integer NOT NULL DEFAULT 0,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sms_codes_expiry ON sms_codes (expires_at);

CREATE TABLE sms_outbox (
    id              uuid PRIMARY KEY,
    recipient       text NOT NULL,
    body            text NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- A code is useless after it expires, so its message is not retried past this.
    expires_at      timestamptz NOT NULL,
    delivered_at    timestamptz,
    abandoned_at    timestamptz,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sms_outbox_due ON sms_outbox (next_attempt_at)
    WHERE delivered_at IS NULL AND abandoned_at IS NULL;
