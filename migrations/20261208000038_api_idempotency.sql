-- The management API's retry keys (the Idempotency-Key request header): a create sent again
-- with the same key by the same app answers what the first one did, and a different request
-- under a used key is refused. Kept a day.
CREATE TABLE api_idempotency_keys (
    client_id   text        NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    key         text        NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    -- SHA-256 of the method, the path and the body: what the key was first used for.
    fingerprint bytea       NOT NULL,
    -- The path of what was created (its id in it), and the status answered.
    location    text        NOT NULL,
    status      smallint    NOT NULL,
    -- The person created, when one was: the key goes with their account.
    person_id   uuid        REFERENCES users (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (client_id, key)
);

CREATE INDEX api_idempotency_keys_created_at ON api_idempotency_keys (created_at);
CREATE INDEX api_idempotency_keys_person ON api_idempotency_keys (person_id) WHERE person_id IS NOT NULL;
