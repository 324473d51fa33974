-- A person moving their account to another address: the link that proves the new address,
-- then the link that lets the old address undo the change for 7 days. Only the SHA-256 of each
-- link is kept. While its undo link lives, the old address stays reserved for its owner.
CREATE TABLE email_changes (
    id                 uuid PRIMARY KEY,
    user_id            uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    old_email          text NOT NULL,
    new_email          text NOT NULL,
    confirm_hash       bytea UNIQUE,
    confirm_expires_at timestamptz NOT NULL,
    confirmed_at       timestamptz,
    undo_hash          bytea UNIQUE,
    undo_expires_at    timestamptz,
    undone_at          timestamptz,
    -- Set when its links stop working early: a newer request replaced it, or an undo ran.
    ended_at           timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    -- The undo link exists only for a confirmed change.
    CHECK (undo_hash IS NULL OR confirmed_at IS NOT NULL),
    CHECK ((confirmed_at IS NULL) = (undo_expires_at IS NULL))
);
CREATE INDEX email_changes_user ON email_changes (user_id);
CREATE INDEX email_changes_reserved ON email_changes (lower(old_email)) WHERE undo_hash IS NOT NULL;
