-- Roles and permissions of partner apps, and the directory's groups of people. Each app
-- (OAuth client) defines its own permissions and roles (a role grants a set of the app's
-- permissions); roles are assigned to people or to groups. An app that asks for the `roles`
-- scope finds the person's roles and permissions for it in its tokens, read afresh at each
-- token issue. Names are checked in the application (`domain::directory`); these checks are
-- the last line.

-- An app's permissions, e.g. `tickets:read`; they go with the app.
CREATE TABLE app_permissions (
    client_id   text NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (name ~ '^[A-Za-z0-9:._-]{1,100}$'),
    PRIMARY KEY (client_id, name)
);

-- An app's roles, named uniquely within the app; they go with the app.
CREATE TABLE app_roles (
    id          uuid PRIMARY KEY,
    client_id   text NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (name ~ '^[A-Za-z0-9:._-]{1,100}$'),
    description text CHECK (char_length(description) BETWEEN 1 AND 500
                            AND description !~ '[[:cntrl:]]'),
    UNIQUE (client_id, name),
    -- What the foreign keys below refer to: a role with its app.
    UNIQUE (id, client_id)
);

-- The permissions a role grants: the role's own app's only.
CREATE TABLE app_role_permissions (
    role_id     uuid NOT NULL,
    client_id   text NOT NULL,
    permission  text NOT NULL,
    PRIMARY KEY (role_id, permission),
    FOREIGN KEY (role_id, client_id) REFERENCES app_roles (id, client_id) ON DELETE CASCADE,
    FOREIGN KEY (client_id, permission) REFERENCES app_permissions (client_id, name)
        ON DELETE CASCADE
);
CREATE INDEX app_role_permissions_permission ON app_role_permissions (client_id, permission);

-- Groups of people, directory-wide (not an app's): provisioned by an operator today.
CREATE TABLE groups (
    id          uuid PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (char_length(name) BETWEEN 1 AND 100
                                            AND name = btrim(name) AND name !~ '[[:cntrl:]]'),
    description text CHECK (char_length(description) BETWEEN 1 AND 500
                            AND description !~ '[[:cntrl:]]'),
    created_at  timestamptz NOT NULL DEFAULT now()
);
-- Names are found whatever their case, so two may not differ by case alone.
CREATE UNIQUE INDEX groups_name_folded ON groups (lower(name));

-- Who belongs to a group; a membership goes with the person and with the group.
CREATE TABLE group_members (
    group_id    uuid NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    added_at    timestamptz NOT NULL DEFAULT now(),
    -- A person's groups (the token query), then a group's members.
    PRIMARY KEY (user_id, group_id)
);
CREATE INDEX group_members_group ON group_members (group_id);

-- A role given to one person or to one group (exactly one of the two); it goes with the role,
-- the person and the group.
CREATE TABLE role_assignments (
    role_id     uuid NOT NULL REFERENCES app_roles (id) ON DELETE CASCADE,
    user_id     uuid REFERENCES users (id) ON DELETE CASCADE,
    group_id    uuid REFERENCES groups (id) ON DELETE CASCADE,
    assigned_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT role_assignments_one_holder CHECK (num_nonnulls(user_id, group_id) = 1),
    -- "Roles of person U": U's own, and those of U's groups (both by these two indexes).
    CONSTRAINT role_assignments_person UNIQUE (user_id, role_id),
    CONSTRAINT role_assignments_group UNIQUE (group_id, role_id)
);
CREATE INDEX role_assignments_role ON role_assignments (role_id);

-- Apps that sign people in may ask for the `roles` scope.
UPDATE oauth_clients SET scopes = array_append(scopes, 'roles')
WHERE client_type <> 'service' AND NOT 'roles' = ANY (scopes);
