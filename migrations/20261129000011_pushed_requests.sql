-- Pushed authorization requests (RFC 9126): an app posts its request to /oauth2/par and sends
-- the browser with only the returned request_uri. Single use, 60 seconds.

ALTER TABLE oauth_clients ADD COLUMN require_par boolean NOT NULL DEFAULT false;

CREATE TABLE pushed_requests (
    -- SHA-256 of the random part of the request_uri.
    handle_hash  bytea PRIMARY KEY,
    client_id    text NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    params       jsonb NOT NULL,
    expires_at   timestamptz NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pushed_requests_expiry ON pushed_requests (expires_at);
