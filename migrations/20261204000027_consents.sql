-- Consent purposes defined by the business, their versioned policy texts, and the consent
-- ledger: every grant and withdrawal a person made, and every app approval and disconnection,
-- as a new row. Policy versions and ledger rows are append-only (a trigger refuses UPDATE,
-- DELETE and TRUNCATE for every role). The ledger keeps no contact data: the person is named
-- by their account id alone, and the network and browser an entry was collected from live in
-- `consent_ledger_context`, which goes with the account when it is erased.
CREATE TABLE consent_purposes (
    key           text PRIMARY KEY CHECK (key ~ '^[a-z][a-z0-9_]{1,39}$'),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    required      boolean NOT NULL,
    lawful_basis  text NOT NULL CHECK (lawful_basis IN ('consent', 'contract', 'legal_obligation',
                      'vital_interests', 'public_task', 'legitimate_interests')),
    -- Where the purpose applies (an ISO 3166-1 country code, or EU); everywhere when null.
    region        text CHECK (region ~ '^[A-Z]{2}$'),
    -- The version of the policy text a person is asked to accept now.
    version       integer NOT NULL CHECK (version > 0),
    retired_at    timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    -- The order people see them in: the order they were added.
    ordinal       bigint GENERATED ALWAYS AS IDENTITY UNIQUE
);

CREATE TABLE consent_policies (
    purpose       text NOT NULL REFERENCES consent_purposes (key),
    version       integer NOT NULL CHECK (version > 0),
    body          text NOT NULL CHECK (length(body) BETWEEN 1 AND 100000),
    -- SHA-256 of `body`: what a ledger row proves was shown.
    body_hash     bytea NOT NULL CHECK (length(body_hash) = 32),
    published_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (purpose, version)
);

ALTER TABLE consent_purposes ADD CONSTRAINT consent_purposes_current_policy
    FOREIGN KEY (key, version) REFERENCES consent_policies (purpose, version)
    DEFERRABLE INITIALLY DEFERRED;

CREATE TABLE consent_ledger (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at             timestamptz NOT NULL DEFAULT now(),
    -- No foreign key: the proof outlives the account, under its (then meaningless) id.
    user_id        uuid NOT NULL,
    granted        boolean NOT NULL,
    -- `service`: withdrawn by the service itself (what the registrant of an address they
    -- never proved agreed to does not bind its owner).
    collected_via  text NOT NULL CHECK (collected_via IN ('registration', 'portal', 're-consent',
                       'api', 'app-authorization', 'service')),
    -- A purpose's policy, or an app's access (exactly one of the two).
    purpose        text,
    policy_version integer,
    policy_hash    bytea,
    client_id      text,
    scopes         text[],
    CONSTRAINT consent_ledger_one_subject CHECK ((purpose IS NULL) <> (client_id IS NULL)),
    CONSTRAINT consent_ledger_policy_whole CHECK (
        (purpose IS NULL) = (policy_version IS NULL) AND (purpose IS NULL) = (policy_hash IS NULL)),
    CONSTRAINT consent_ledger_policy FOREIGN KEY (purpose, policy_version)
        REFERENCES consent_policies (purpose, version)
);
CREATE INDEX consent_ledger_person ON consent_ledger (user_id, id);

CREATE TABLE consent_ledger_context (
    entry_id    bigint PRIMARY KEY REFERENCES consent_ledger (id),
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    ip          text,
    user_agent  text
);
CREATE INDEX consent_ledger_context_person ON consent_ledger_context (user_id);

CREATE FUNCTION consents_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END $$;
CREATE TRIGGER consent_ledger_append_only BEFORE UPDATE OR DELETE ON consent_ledger
    FOR EACH ROW EXECUTE FUNCTION consents_append_only();
CREATE TRIGGER consent_ledger_no_truncate BEFORE TRUNCATE ON consent_ledger
    FOR EACH STATEMENT EXECUTE FUNCTION consents_append_only();
CREATE TRIGGER consent_policies_append_only BEFORE UPDATE OR DELETE ON consent_policies
    FOR EACH ROW EXECUTE FUNCTION consents_append_only();
CREATE TRIGGER consent_policies_no_truncate BEFORE TRUNCATE ON consent_policies
    FOR EACH STATEMENT EXECUTE FUNCTION consents_append_only();

-- The defaults a new installation starts with; the business rewrites the texts with
-- `server consent publish`.
INSERT INTO consent_purposes (key, name, required, lawful_basis, version) VALUES
    ('terms', 'Terms of service', true, 'contract', 1),
    ('privacy', 'Privacy policy', true, 'legal_obligation', 1),
    ('marketing_email', 'Marketing email', false, 'consent', 1),
    ('analytics', 'Analytics', false, 'consent', 1),
    ('partner_sharing', 'Sharing with partners', false, 'consent', 1);
INSERT INTO consent_policies (purpose, version, body, body_hash)
SELECT key, 1, body, sha256(convert_to(body, 'UTF8'))
FROM (VALUES
    ('terms', 'You agree to the terms of service that govern your use of this account.'),
    ('privacy', 'You have read how we process your personal data, as our privacy policy describes.'),
    ('marketing_email', 'We may send you news and offers by email. You can withdraw at any time.'),
    ('analytics', 'We may measure how you use our services to improve them.'),
    ('partner_sharing', 'We may share your profile with selected partners for their own offers.')
) AS d (key, body);

-- Apps that sign people in may ask for the `consents` scope (the person's current choices).
UPDATE oauth_clients SET scopes = array_append(scopes, 'consents')
WHERE client_type <> 'service' AND NOT 'consents' = ANY (scopes);
