-- Every node keeps, besides the clients, two more things in memory, each kept true by a notice:
-- the revoked access tokens (the whole set, so a token that is not in it is not revoked) and the
-- people whose claims userinfo and ID tokens carry (forgotten on any change to their row).

CREATE FUNCTION notify_access_token_revoked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('access_token_revoked',
                      NEW.jti::text || ' ' || floor(extract(epoch FROM NEW.expires_at))::bigint);
    RETURN NULL;
END
$$;

CREATE TRIGGER access_token_revoked
    AFTER INSERT ON revoked_access_tokens
    FOR EACH ROW EXECUTE FUNCTION notify_access_token_revoked();

CREATE FUNCTION notify_user_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('user_changed', OLD.id::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER user_changed
    AFTER UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION notify_user_changed();

-- TRUNCATE names no row: every node forgets everyone.
CREATE FUNCTION notify_users_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('user_changed', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER users_truncated
    AFTER TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION notify_users_truncated();
