-- A sign-in marks the account's row (last_sign_in_at) and a failed password counts on it
-- (failed_sign_ins); neither is a claim any node keeps in memory. Such an update no longer tells
-- every node to forget the person: only a change to any other column does, so a column added
-- later is covered without touching this function.
CREATE OR REPLACE FUNCTION notify_user_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND to_jsonb(OLD) - 'last_sign_in_at' - 'failed_sign_ins'
           = to_jsonb(NEW) - 'last_sign_in_at' - 'failed_sign_ins' THEN
        RETURN NULL;
    END IF;
    PERFORM pg_notify('user_changed', OLD.id::text);
    RETURN NULL;
END
$$;
