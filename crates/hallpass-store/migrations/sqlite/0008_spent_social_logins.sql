-- Social-login transactions that reached their callback, so that a transaction is finished at
-- most once across every node, whatever the provider does with a replayed code. Keyed by
-- SHA-256 of the transaction's `state` (the state itself is never stored); a row is kept until
-- `keep_until` (unix microseconds, past the transaction's own expiry) and then pruned, since an
-- expired transaction is refused anyway.
CREATE TABLE spent_social_logins (
    state_hash BLOB    PRIMARY KEY NOT NULL,
    keep_until INTEGER NOT NULL
);
CREATE INDEX spent_social_logins_keep_until ON spent_social_logins (keep_until);
