-- Every node holds the published signing keys in memory; a rotation (by any node, the schedule
-- or `server keys rotate`) tells them all to load them again at once.

CREATE FUNCTION notify_signing_keys_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('signing_keys_changed', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER signing_keys_changed
    AFTER INSERT OR UPDATE OR DELETE ON signing_keys
    FOR EACH STATEMENT EXECUTE FUNCTION notify_signing_keys_changed();
