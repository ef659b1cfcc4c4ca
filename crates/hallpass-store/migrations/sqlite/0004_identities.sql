-- Social-login identities: which user each provider's subject belongs to. Times are unix
-- microseconds (INTEGER), as in 0001_initial. A user may have no usable password (a marker
-- starting with '!' in users.password_hash), and then these rows are their only way to log in.
CREATE TABLE identities (
    provider   TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    user_id    BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email      TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (provider, subject)
);
-- A user's identities by provider (listing, unlinking); deleting a user finds them without a scan.
CREATE INDEX identities_user ON identities (user_id, provider);
