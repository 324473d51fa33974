-- Every node keeps the registered clients the token endpoints use in memory; any change to
-- oauth_clients tells them all to forget what they hold.

CREATE FUNCTION notify_oauth_clients_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('oauth_clients_changed', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER oauth_clients_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON oauth_clients
    FOR EACH STATEMENT EXECUTE FUNCTION notify_oauth_clients_changed();
