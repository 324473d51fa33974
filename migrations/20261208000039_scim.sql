-- SCIM 2.0 provisioning (RFC 7643, RFC 7644): the provisioning clients (an identity provider
-- such as Entra ID or Okta, each with a long-lived bearer token kept as its SHA-256 only), what
-- provisioning says about a person beyond the account itself (the parts of their name), and
-- the external ids each client gave the people and groups it provisioned.

CREATE TABLE scim_clients (
    id           uuid PRIMARY KEY,
    name         text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 80),
    token_hash   bytea NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);

-- The parts of a provisioned person's name (`name.givenName`, `familyName`, `formatted`), and
-- the display name the service made up when provisioning gave none (so that it is not
-- reported back as the client's `displayName`).
CREATE TABLE scim_users (
    user_id          uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    given_name       text,
    family_name      text,
    formatted_name   text,
    placeholder_name text
);

-- The `externalId` a provisioning client gave a person.
CREATE TABLE scim_user_ids (
    client_id   uuid NOT NULL REFERENCES scim_clients (id) ON DELETE CASCADE,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    external_id text NOT NULL,
    PRIMARY KEY (client_id, user_id)
);
CREATE INDEX scim_user_ids_external ON scim_user_ids (client_id, external_id);
CREATE INDEX scim_user_ids_user ON scim_user_ids (user_id);

-- The `externalId` a provisioning client gave a group, and when provisioning last changed it.
CREATE TABLE scim_group_ids (
    client_id   uuid NOT NULL REFERENCES scim_clients (id) ON DELETE CASCADE,
    group_id    uuid NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    external_id text NOT NULL,
    PRIMARY KEY (client_id, group_id)
);
CREATE INDEX scim_group_ids_external ON scim_group_ids (client_id, external_id);
CREATE INDEX scim_group_ids_group ON scim_group_ids (group_id);

-- When provisioning last changed a group (renamed, members, external id): the directory's
-- groups keep only when they were created.
CREATE TABLE scim_groups (
    group_id   uuid PRIMARY KEY REFERENCES groups (id) ON DELETE CASCADE,
    updated_at timestamptz NOT NULL DEFAULT now()
);
