-- A person's "Download my data": built in the background from every table that holds rows about
-- them, kept sealed (AES-GCM under a key derived from the master key) for 24 hours, downloaded
-- only by the person, signed in.
CREATE TABLE data_exports (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'building', 'ready', 'failed')),
    tables_done integer NOT NULL DEFAULT 0,
    tables_total integer NOT NULL DEFAULT 0,
    requested_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    ready_at timestamptz,
    expires_at timestamptz,
    json_sealed bytea,
    html_sealed bytea,
    CHECK ((state = 'ready') = (json_sealed IS NOT NULL AND html_sealed IS NOT NULL AND expires_at IS NOT NULL))
);
-- One export in the making per person at a time.
CREATE UNIQUE INDEX data_exports_one_open ON data_exports (user_id) WHERE state IN ('queued', 'building');
CREATE INDEX data_exports_person ON data_exports (user_id, requested_at DESC);
CREATE INDEX data_exports_queue ON data_exports (requested_at) WHERE state = 'queued';
