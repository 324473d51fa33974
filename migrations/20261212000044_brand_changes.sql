-- Every node holds the brands pages wear in memory while it listens; any change, from the
-- console, the command line or SQL (an app's removal takes its brand too), tells them all to
-- read them again.

CREATE FUNCTION notify_brands_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('brands_changed', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER brands_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON brands
    FOR EACH STATEMENT EXECUTE FUNCTION notify_brands_changed();
