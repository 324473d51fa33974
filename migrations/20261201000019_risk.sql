-- The risk engine: every sign-in attempt it weighed after a first factor, with the signals,
-- their weights, the score and the decision, kept for the person's history (known devices,
-- networks and countries; where they last signed in) and for explaining the decision.
CREATE TABLE risk_assessments (
    id          bigserial PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    ip          text,
    network     text,
    country     text,
    latitude    double precision,
    longitude   double precision,
    -- SHA-256 of the browser's device cookie.
    device_hash bytea,
    score       integer NOT NULL,
    decision    text NOT NULL CHECK (decision IN ('allow', 'step_up', 'block')),
    -- Each signal that counted, its weight and its plain words.
    reasons     jsonb NOT NULL,
    -- The sign-in went through (after a second factor, when one was asked).
    completed   boolean NOT NULL DEFAULT false
);
-- History is read from completed sign-ins only; attempts are kept 180 days (the cleanup).
CREATE INDEX risk_assessments_history ON risk_assessments (user_id, created_at DESC)
    WHERE completed;
CREATE INDEX risk_assessments_age ON risk_assessments (created_at);
