-- The admin console: staff roles and their permissions (in tables, so that each console
-- action checks one named permission), the states an operator puts a customer's account in,
-- and the indexes customer search needs at a million rows.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE staff_roles (
    name        text PRIMARY KEY,
    description text NOT NULL
);

CREATE TABLE staff_permissions (
    name        text PRIMARY KEY,
    description text NOT NULL
);

CREATE TABLE staff_role_permissions (
    role       text NOT NULL REFERENCES staff_roles (name) ON DELETE CASCADE,
    permission text NOT NULL REFERENCES staff_permissions (name) ON DELETE CASCADE,
    PRIMARY KEY (role, permission)
);

-- Who is staff, and in which role. An account here has users.role = 'admin'.
CREATE TABLE staff_members (
    user_id    uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    role       text NOT NULL REFERENCES staff_roles (name),
    granted_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO staff_roles (name, description) VALUES
    ('owner',   'Everything, including managing staff'),
    ('admin',   'Everything except managing staff'),
    ('support', 'Reads customers, ends sessions, resends mails, unlocks; no deletes, secrets or settings'),
    ('auditor', 'Reads the audit trail and reports');

INSERT INTO staff_permissions (name, description) VALUES
    ('customers.read',     'Search customers and open their page'),
    ('customers.edit',     'Edit a profile, verify an address by hand'),
    ('customers.lock',     'Lock an account'),
    ('customers.unlock',   'Unlock an account, lift a password lockout'),
    ('customers.sessions', 'End all of a customer''s sessions and app tokens'),
    ('customers.mail',     'Resend a verification mail'),
    ('customers.reset',    'Require a password reset at the next sign-in'),
    ('customers.factors',  'Remove a second factor or passkey'),
    ('customers.delete',   'Delete an account'),
    ('customers.breach',   'Run a breach response over many customers'),
    ('settings.read',      'See the sign-in settings'),
    ('settings.write',     'Change the sign-in settings'),
    ('apps.read',          'See the partner apps and their token activity'),
    ('apps.write',         'Register, enable, disable apps and rotate their secrets'),
    ('audit.read',         'Read the audit trail'),
    ('audit.export',       'Export the audit trail as CSV or JSON'),
    ('reports.read',       'Read the dashboard'),
    ('staff.read',         'See the staff and who of them is signed in'),
    ('staff.manage',       'Change a staff member''s role, remove staff');

INSERT INTO staff_role_permissions (role, permission)
    SELECT 'owner', name FROM staff_permissions;
INSERT INTO staff_role_permissions (role, permission)
    SELECT 'admin', name FROM staff_permissions WHERE name <> 'staff.manage';
INSERT INTO staff_role_permissions (role, permission) VALUES
    ('support', 'customers.read'),
    ('support', 'customers.unlock'),
    ('support', 'customers.sessions'),
    ('support', 'customers.mail'),
    ('auditor', 'audit.read'),
    ('auditor', 'audit.export'),
    ('auditor', 'reports.read');

-- Every administrator so far becomes an owner.
INSERT INTO staff_members (user_id, role) SELECT id, 'owner' FROM users WHERE role = 'admin';

ALTER TABLE users
    -- Locked by an operator: no sign-in by any method until unlocked.
    ADD COLUMN locked_at timestamptz,
    -- The password may not be used again: the next sign-in must reset it.
    ADD COLUMN password_reset_required boolean NOT NULL DEFAULT false,
    -- This person must sign in with a second factor (and enrol one), whatever the policy.
    ADD COLUMN mfa_required boolean NOT NULL DEFAULT false,
    ADD COLUMN last_sign_in_at timestamptz;

-- Search: substrings of the address and the name (trigrams), prefixes of short queries and of
-- phone numbers, and the sort orders with their cursors.
CREATE INDEX users_email_trgm ON users USING gin (lower(email) gin_trgm_ops);
CREATE INDEX users_name_trgm ON users USING gin (lower(display_name) gin_trgm_ops);
CREATE INDEX users_email_prefix ON users (lower(email) text_pattern_ops, id);
CREATE INDEX users_phone_prefix ON users (phone text_pattern_ops) WHERE phone IS NOT NULL;
CREATE INDEX users_created ON users (created_at, id);
CREATE INDEX users_last_sign_in ON users (last_sign_in_at, id);

-- The customer page lists every recent attempt, completed or not.
CREATE INDEX risk_assessments_user ON risk_assessments (user_id, created_at DESC);

-- The audit viewer filters by actor and by action, newest first.
CREATE INDEX audit_events_actor ON audit_events (actor_id, id DESC) WHERE actor_id IS NOT NULL;
CREATE INDEX audit_events_action ON audit_events (action, id DESC);

-- Breach responses: who they target (resolved once, when started), the notice mailed, and
-- each customer's progress. The key (a hash of target and notice) makes the same response,
-- started twice, one response.
CREATE TABLE breach_responses (
    id          bigserial PRIMARY KEY,
    key         bytea NOT NULL UNIQUE,
    target      jsonb NOT NULL,
    notice      text NOT NULL,
    started_by  uuid,
    started_at  timestamptz NOT NULL DEFAULT now(),
    total       integer NOT NULL,
    done        integer NOT NULL DEFAULT 0,
    finished_at timestamptz
);

CREATE TABLE breach_response_members (
    response_id bigint NOT NULL REFERENCES breach_responses (id) ON DELETE CASCADE,
    user_id     uuid NOT NULL,
    handled_at  timestamptz,
    PRIMARY KEY (response_id, user_id)
);
CREATE INDEX breach_response_members_waiting ON breach_response_members (response_id)
    WHERE handled_at IS NULL;

-- The dashboard reads per-day counts, kept by a rollup of the sealed audit trail (each sealed
-- row counted once: `report_watermarks` holds the last chain_seq counted) and of the risk
-- decisions; never scans of the trail itself.
CREATE TABLE daily_counts (
    day       date NOT NULL,
    metric    text NOT NULL,
    dimension text NOT NULL DEFAULT '',
    count     bigint NOT NULL,
    PRIMARY KEY (day, metric, dimension)
);

CREATE TABLE report_watermarks (
    name     text PRIMARY KEY,
    position bigint NOT NULL
);
INSERT INTO report_watermarks (name, position) VALUES ('audit', 0), ('risk', 0);

-- Counts that are a state, not a flow (customers, with a second factor, live sessions),
-- measured by the rollup now and then.
CREATE TABLE report_gauges (
    name        text PRIMARY KEY,
    value       bigint NOT NULL,
    measured_at timestamptz NOT NULL
);

-- A disabled app is refused at every endpoint, as if unregistered; its grants end.
ALTER TABLE oauth_clients ADD COLUMN disabled_at timestamptz;
CREATE INDEX authorization_codes_client ON authorization_codes (client_id, created_at);
CREATE INDEX refresh_tokens_client ON refresh_tokens (client_id, created_at);

-- An authenticator app being set up: one per person, kept in the database rather than the
-- session, so that two requests starting the same setup at once (a page loaded twice) agree
-- on one secret. Sealed like the factors' secrets; 15 minutes to confirm.
CREATE TABLE totp_pending (
    user_id    uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    sealed     bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
