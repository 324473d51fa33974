-- Passwordless sign-in by email: one request mails both a link and a short code.

CREATE TABLE email_sign_in_requests (
    id                  uuid PRIMARY KEY,
    email               text NOT NULL,
    -- NULL when the address had no account (the request still looks the same to the caller).
    user_id             uuid REFERENCES users (id) ON DELETE CASCADE,
    link_hash           bytea NOT NULL UNIQUE,
    code_hash           bytea NOT NULL,
    requested_ip        text,
    requested_user_agent text,
    attempts            integer NOT NULL DEFAULT 0,
    expires_at          timestamptz NOT NULL,
    used_at             timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX email_sign_in_requests_email ON email_sign_in_requests (lower(email), created_at DESC);

-- Which sign-in methods the business offers.
ALTER TABLE auth_settings
    ADD COLUMN email_sign_in_enabled     boolean NOT NULL DEFAULT true,
    ADD COLUMN register_on_email_sign_in boolean NOT NULL DEFAULT false,
    ADD COLUMN passkeys_enabled          boolean NOT NULL DEFAULT true,
    ADD COLUMN social_enabled            boolean NOT NULL DEFAULT true,
    ADD COLUMN sms_enabled               boolean NOT NULL DEFAULT false;
