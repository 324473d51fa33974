-- Signed webhooks (Standard Webhooks 1.0): partner systems subscribe to events about people and
-- receive them, signed with a secret of theirs, through an outbox written in the transaction of
-- the change. Retried with backoff for a day; every attempt is logged.

CREATE TABLE webhook_subscriptions (
    id                    uuid PRIMARY KEY,
    name                  text NOT NULL,
    url                   text NOT NULL,
    event_types           text[] NOT NULL CHECK (cardinality(event_types) > 0),
    enabled               boolean NOT NULL DEFAULT true,
    -- Targets on loopback, private, link-local, unique-local, CGNAT, multicast or unspecified
    -- addresses (and plain http) are refused unless the operator allowed them explicitly.
    allow_private_targets boolean NOT NULL DEFAULT false,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);

-- The signing secrets, sealed under a key derived from the master key. The current one has no
-- `expires_at`; one replaced by a rotation signs alongside it until `expires_at`.
CREATE TABLE webhook_secrets (
    id              uuid PRIMARY KEY,
    subscription_id uuid NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
    secret_enc      bytea NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz
);
CREATE INDEX webhook_secrets_subscription ON webhook_secrets (subscription_id);

-- One row per event and subscription. The body (the exact bytes signed) is kept until the
-- message is delivered or given up; `person_id` names whom the event is about (NULL for the
-- deletion of a person, which outlives them).
CREATE TABLE webhook_deliveries (
    id              bigserial PRIMARY KEY,
    subscription_id uuid NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
    message_id      text NOT NULL,
    event_type      text NOT NULL,
    person_id       uuid,
    body            text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    failed_at       timestamptz,
    last_error      text
);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (next_attempt_at)
    WHERE delivered_at IS NULL AND failed_at IS NULL;
CREATE INDEX webhook_deliveries_person ON webhook_deliveries (person_id)
    WHERE person_id IS NOT NULL;
CREATE INDEX webhook_deliveries_created ON webhook_deliveries (created_at);

-- Every delivery attempt: the status the target answered, or why there was no answer.
CREATE TABLE webhook_attempts (
    id              bigserial PRIMARY KEY,
    subscription_id uuid NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
    delivery_id     bigint REFERENCES webhook_deliveries (id) ON DELETE SET NULL,
    event_type      text NOT NULL,
    attempt         integer NOT NULL,
    at              timestamptz NOT NULL DEFAULT now(),
    status          integer,
    error           text,
    duration_ms     integer NOT NULL
);
CREATE INDEX webhook_attempts_subscription ON webhook_attempts (subscription_id, id DESC);
CREATE INDEX webhook_attempts_at ON webhook_attempts (at);

-- Wakes every node's delivery worker when a transaction that queued messages commits (a
-- notice is sent at commit, once per transaction, and never for one rolled back).
CREATE FUNCTION notify_webhook_queued() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('webhook_queued', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER webhook_queued
    AFTER INSERT ON webhook_deliveries
    FOR EACH ROW EXECUTE FUNCTION notify_webhook_queued();
