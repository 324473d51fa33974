-- Partner apps' attribute-based policies (Cedar): one schema and one policy set per app,
-- versioned; every node keeps the parsed set in memory and forgets it when told.

CREATE TABLE app_policies (
    client_id  text PRIMARY KEY REFERENCES oauth_clients (id) ON DELETE CASCADE,
    -- The Cedar schema (human-readable syntax) and the policies, as saved (each checked).
    schema     text NOT NULL CHECK (octet_length(schema) BETWEEN 1 AND 131072),
    policies   text NOT NULL CHECK (octet_length(policies) BETWEEN 1 AND 131072),
    version    bigint NOT NULL CHECK (version > 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION notify_app_policies_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('app_policies_changed', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER app_policies_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON app_policies
    FOR EACH STATEMENT EXECUTE FUNCTION notify_app_policies_changed();
