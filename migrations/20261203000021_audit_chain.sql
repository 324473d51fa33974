-- The audit trail becomes tamper-evident: append-only (a trigger refuses UPDATE, DELETE and
-- TRUNCATE, except sealing an unsealed row once), and sealed by a background task into a hash
-- chain: `chain_seq` numbers the rows in the order they were sealed, and `chain_hash` is the
-- HMAC-SHA-256, under a key derived from the master key, of the previous row's seal and this
-- row's content.
ALTER TABLE audit_events
    ADD COLUMN chain_seq bigint,
    ADD COLUMN chain_hash bytea,
    ADD CONSTRAINT audit_events_sealed_whole CHECK ((chain_seq IS NULL) = (chain_hash IS NULL));
CREATE UNIQUE INDEX audit_events_chain ON audit_events (chain_seq) WHERE chain_seq IS NOT NULL;
CREATE INDEX audit_events_unsealed ON audit_events (id) WHERE chain_seq IS NULL;

CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.chain_seq IS NULL AND NEW.chain_seq IS NOT NULL
       AND (NEW.id, NEW.at, NEW.actor_id, NEW.actor, NEW.subject_id, NEW.action, NEW.outcome,
            NEW.ip, NEW.user_agent, NEW.detail)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.at, OLD.actor_id, OLD.actor, OLD.subject_id, OLD.action, OLD.outcome,
            OLD.ip, OLD.user_agent, OLD.detail) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP;
END $$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
