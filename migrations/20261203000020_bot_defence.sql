-- Proof of work: each challenge is accepted once; a row lives until its challenge expires
-- (the cleanup deletes it then).
CREATE TABLE spent_proofs (
    -- SHA-256 of the challenge.
    digest     bytea PRIMARY KEY,
    expires_at timestamptz NOT NULL
);
CREATE INDEX spent_proofs_expiry ON spent_proofs (expires_at);

-- The risk engine: on by default (the safer choice); its thresholds, set by the business, NULL
-- keeping the built-in default.
ALTER TABLE auth_settings
    ADD COLUMN risk_engine_enabled boolean NOT NULL DEFAULT true,
    ADD COLUMN risk_step_up integer CHECK (risk_step_up BETWEEN 1 AND 1000),
    ADD COLUMN risk_block integer CHECK (risk_block BETWEEN 1 AND 1000),
    ADD CONSTRAINT risk_block_above_step_up
        CHECK (risk_block IS NULL OR risk_step_up IS NULL OR risk_block > risk_step_up);
