-- Pairwise subject identifiers (OpenID Connect Core §8.1): an app may be given a `sub` per
-- sector (a host name) instead of the account id. The values handed out are remembered so a
-- token carrying one can be traced back to its account.

ALTER TABLE oauth_clients
    ADD COLUMN subject_type text NOT NULL DEFAULT 'public'
        CHECK (subject_type IN ('public', 'pairwise')),
    ADD COLUMN sector_identifier text,
    ADD CONSTRAINT oauth_clients_pairwise_sector
        CHECK ((subject_type = 'pairwise') = (sector_identifier IS NOT NULL));

CREATE TABLE pairwise_subjects (
    sector      text NOT NULL,
    sub         text NOT NULL,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sector, sub)
);
CREATE INDEX pairwise_subjects_user ON pairwise_subjects (user_id);
