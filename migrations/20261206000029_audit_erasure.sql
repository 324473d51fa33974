-- The audit trail survives a person's erasure (GDPR Art. 17): their rows stay, with the person
-- replaced by a pseudonym, the network and browser dropped and `detail` cut to its non-personal
-- part, and the hash chain still holds. For that the seal no longer covers the personal columns
-- themselves but `personal_digest`, a keyed digest of them (actor_id, subject_id, ip,
-- user_agent, detail) stored when the row is sealed; `erased_as` is the pseudonym, set once
-- when the row's person is erased. The trigger now allows exactly two updates: sealing an
-- unsealed row (chain_seq, chain_hash and personal_digest, nothing else), and erasing a row once
-- (sealed or not; one sealed later is sealed over its erased content).
--
-- Rows sealed before this migration were sealed in the old format (over the personal columns):
-- they are all unsealed here, with the trigger switched off for that one statement, and the
-- sealer seals them again in the new format on its next run (`chain_seq` starts again at 1).
ALTER TABLE audit_events
    ADD COLUMN personal_digest bytea,
    ADD COLUMN erased_as uuid;

ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only;
UPDATE audit_events SET chain_seq = NULL, chain_hash = NULL WHERE chain_seq IS NOT NULL;
ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only;

ALTER TABLE audit_events
    DROP CONSTRAINT audit_events_sealed_whole,
    ADD CONSTRAINT audit_events_sealed_whole
        CHECK (num_nulls(chain_seq, chain_hash, personal_digest) IN (0, 3));

-- Sealing: an unsealed row gets its chain columns, and nothing else changes.
-- Erasure, once: the pseudonym is set; the network and browser are dropped; actor_id and
-- subject_id each stay or become the pseudonym, and one of them is it; `detail` keeps a part
-- of what it held (it can lose keys, never gain or change one); nothing else changes, the
-- chain columns included. Everything else, DELETE and TRUNCATE are refused.
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.chain_seq IS NULL
           AND NEW.chain_seq IS NOT NULL AND NEW.chain_hash IS NOT NULL
           AND NEW.personal_digest IS NOT NULL
           AND (NEW.id, NEW.at, NEW.actor_id, NEW.actor, NEW.subject_id, NEW.action,
                NEW.outcome, NEW.ip, NEW.user_agent, NEW.detail, NEW.erased_as)
               IS NOT DISTINCT FROM
               (OLD.id, OLD.at, OLD.actor_id, OLD.actor, OLD.subject_id, OLD.action,
                OLD.outcome, OLD.ip, OLD.user_agent, OLD.detail, OLD.erased_as) THEN
            RETURN NEW;
        END IF;
        IF OLD.erased_as IS NULL AND NEW.erased_as IS NOT NULL
           AND (NEW.id, NEW.at, NEW.actor, NEW.action, NEW.outcome, NEW.chain_seq,
                NEW.chain_hash, NEW.personal_digest)
               IS NOT DISTINCT FROM
               (OLD.id, OLD.at, OLD.actor, OLD.action, OLD.outcome, OLD.chain_seq,
                OLD.chain_hash, OLD.personal_digest)
           AND NEW.ip IS NULL AND NEW.user_agent IS NULL
           AND (NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id
                OR NEW.actor_id IS NOT DISTINCT FROM NEW.erased_as)
           AND (NEW.subject_id IS NOT DISTINCT FROM OLD.subject_id
                OR NEW.subject_id IS NOT DISTINCT FROM NEW.erased_as)
           AND (NEW.actor_id IS NOT DISTINCT FROM NEW.erased_as
                OR NEW.subject_id IS NOT DISTINCT FROM NEW.erased_as)
           AND OLD.detail @> NEW.detail THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP;
END $$;

-- Erasure finds a person's rows by subject_id OR actor_id: the two existing indexes
-- (audit_events_subject on subject_id, audit_events_actor on actor_id) answer it together
-- (a BitmapOr), so no index is added.
