-- Social-login identities: which user each provider's subject belongs to. Times are unix
-- microseconds (BIGINT), as in 0001_initial. A user may have no usable password (a marker
-- starting with '!' in users.password_hash), and then these rows are their only way to log in.
CREATE TABLE identities (
    provider   TEXT   NOT NULL,
    subject    TEXT   NOT NULL,
    user_id    UUID   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email      TEXT,
    created_at BIGINT NOT NULL,
    CONSTRAINT identities_pkey PRIMARY KEY (provider, subject)
);
-- A user's identities by provider (listing, unlinking); deleting a user finds them without a scan
-- (PostgreSQL does not index foreign keys).
CREATE INDEX identities_user ON identities (user_id, provider);
