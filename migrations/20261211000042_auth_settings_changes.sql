-- Every node holds the sign-in policy (the one auth_settings row) in memory while it listens;
-- any change, from the console, the command line or SQL, tells them all to read it again.

CREATE FUNCTION notify_auth_settings_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('auth_settings_changed', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER auth_settings_changed
    AFTER INSERT OR UPDATE OR DELETE ON auth_settings
    FOR EACH STATEMENT EXECUTE FUNCTION notify_auth_settings_changed();
