-- "Delete my account": a request waits out the business's grace period (7 days unless set
-- otherwise), during which a sign-in offers to cancel it; then the erasure worker deletes the
-- person in one transaction and the request row goes with the account.
ALTER TABLE auth_settings
    ADD COLUMN deletion_grace_days integer NOT NULL DEFAULT 7
        CHECK (deletion_grace_days BETWEEN 1 AND 90);

CREATE TABLE account_deletions (
    user_id      uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    requested_at timestamptz NOT NULL DEFAULT now(),
    due_at       timestamptz NOT NULL
);
CREATE INDEX account_deletions_due ON account_deletions (due_at);
