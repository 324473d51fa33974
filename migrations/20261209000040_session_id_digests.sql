-- Sessions are keyed by the SHA-256 (hex) of the cookie's session id, never the id itself: a
-- reader of this table cannot sign in as anyone. Live sessions keep working: their rows are
-- re-keyed the way the store now looks them up.
UPDATE sessions SET id = encode(sha256(convert_to(id, 'UTF8')), 'hex');
