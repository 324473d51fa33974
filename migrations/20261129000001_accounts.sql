-- Accounts, one-time tokens, sessions, throttling, audit, mail outbox and branding.

CREATE TABLE users (
    id                uuid PRIMARY KEY,
    email             text NOT NULL,
    email_verified_at timestamptz,
    display_name      text NOT NULL,
    password_hash     text,
    role              text NOT NULL DEFAULT 'customer' CHECK (role IN ('customer', 'admin')),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
-- One account per address, whatever the case of its letters.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- Single-use tokens sent by mail; only the SHA-256 of the token is kept.
CREATE TABLE one_time_tokens (
    token_hash  bytea PRIMARY KEY,
    purpose     text NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX one_time_tokens_user ON one_time_tokens (user_id, purpose);

-- Browser sessions (the tower-sessions store). user_id mirrors the signed-in user so that
-- every session of an account can be listed and ended.
CREATE TABLE sessions (
    id          text PRIMARY KEY,
    user_id     uuid REFERENCES users (id) ON DELETE CASCADE,
    data        jsonb NOT NULL,
    expires_at  timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sessions_user ON sessions (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- Failed sign-in counters shared by every node: one row per account key and per client IP.
CREATE TABLE auth_throttle (
    key               text PRIMARY KEY,
    failures          integer NOT NULL,
    window_started_at timestamptz NOT NULL,
    locked_until      timestamptz
);

CREATE TABLE audit_events (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor_id    uuid,
    subject_id  uuid,
    action      text NOT NULL,
    outcome     text NOT NULL CHECK (outcome IN ('success', 'failure')),
    ip          text,
    user_agent  text,
    detail      jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_events_subject ON audit_events (subject_id, at DESC);
CREATE INDEX audit_events_at ON audit_events (at DESC);

-- Transactional outbox for mail: written in the same transaction as the change that caused it.
CREATE TABLE mail_outbox (
    id              bigserial PRIMARY KEY,
    recipient       text NOT NULL,
    subject         text NOT NULL,
    body_text       text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    last_error      text
);
CREATE INDEX mail_outbox_pending ON mail_outbox (next_attempt_at) WHERE delivered_at IS NULL;

-- The look of the portal; one row, edited later from the admin console.
CREATE TABLE branding (
    id            boolean PRIMARY KEY DEFAULT true CHECK (id),
    product_name  text NOT NULL,
    primary_color text NOT NULL CHECK (primary_color ~ '^#[0-9a-fA-F]{6}$'),
    accent_color  text NOT NULL CHECK (accent_color ~ '^#[0-9a-fA-F]{6}$'),
    logo_path     text NOT NULL
);
INSERT INTO branding (product_name, primary_color, accent_color, logo_path)
VALUES ('Keyhaven', '#3a4fd8', '#0f9d8a', '/logo.svg');

-- Policy switches the business chooses; one row.
CREATE TABLE auth_settings (
    id                          boolean PRIMARY KEY DEFAULT true CHECK (id),
    require_verified_email      boolean NOT NULL DEFAULT true
);
INSERT INTO auth_settings DEFAULT VALUES;
