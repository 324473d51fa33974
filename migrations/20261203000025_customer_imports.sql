-- Customer imports started from the console: the uploaded file waits here for the worker,
-- which records its progress and, when it is done, its report. The file itself (it may hold
-- password hashes) is cleared the moment the import ends.

INSERT INTO staff_permissions (name, description) VALUES
    ('customers.import', 'Import customers from a CSV or JSON Lines file');
INSERT INTO staff_role_permissions (role, permission) VALUES
    ('owner', 'customers.import'),
    ('admin', 'customers.import');

CREATE TABLE customer_imports (
    id          bigserial PRIMARY KEY,
    started_by  uuid,
    file_name   text NOT NULL,
    format      text NOT NULL CHECK (format IN ('csv', 'jsonl')),
    dry_run     boolean NOT NULL,
    -- The file, until the import ends.
    body        text,
    state       text NOT NULL DEFAULT 'waiting'
                CHECK (state IN ('waiting', 'running', 'done', 'failed')),
    total       integer NOT NULL DEFAULT 0,
    done        integer NOT NULL DEFAULT 0,
    imported    integer NOT NULL DEFAULT 0,
    skipped     integer NOT NULL DEFAULT 0,
    -- The first skipped lines: [{"line": 3, "message": "…"}, …].
    errors      jsonb NOT NULL DEFAULT '[]',
    failure     text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    CHECK (body IS NULL OR state IN ('waiting', 'running'))
);
CREATE INDEX customer_imports_waiting ON customer_imports (id) WHERE state = 'waiting';
