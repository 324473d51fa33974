-- Session-aware logout for the OpenID provider (OpenID Connect Back-Channel and Front-Channel
-- Logout 1.0): each browser sign-in has a `sid` (kept in the session data), the apps it signed
-- in to are remembered, and when it ends each app with a back-channel URI is sent a logout
-- token through an outbox with retries.

ALTER TABLE oauth_clients ADD COLUMN frontchannel_logout_uri text;
ALTER TABLE authorization_codes ADD COLUMN sid text;
ALTER TABLE refresh_tokens ADD COLUMN sid text;

-- Finding the session of a `sid`, to tell which sign-ins have ended.
CREATE INDEX sessions_sid ON sessions ((data ->> 'sid'));

CREATE TABLE session_apps (
    sid         text NOT NULL,
    client_id   text NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sid, client_id)
);
CREATE INDEX session_apps_user ON session_apps (user_id);

-- Logout tokens owed to apps. The token is signed when it is sent (fresh iat/exp/jti on every
-- attempt); a notice not delivered within a day is abandoned.
CREATE TABLE logout_outbox (
    id              bigserial PRIMARY KEY,
    client_id       text NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    uri             text NOT NULL,
    sub             text NOT NULL,
    sid             text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL DEFAULT now() + interval '1 day',
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    abandoned_at    timestamptz,
    last_error      text
);
CREATE INDEX logout_outbox_pending ON logout_outbox (next_attempt_at)
    WHERE delivered_at IS NULL AND abandoned_at IS NULL;
