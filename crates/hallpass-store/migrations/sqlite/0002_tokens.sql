-- Token sessions: the refresh family's salt, generation and last rotation.
ALTER TABLE sessions ADD COLUMN refresh_salt BLOB;
ALTER TABLE sessions ADD COLUMN refresh_generation INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN refresh_rotated_at INTEGER;
CREATE INDEX sessions_revoked_at ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

-- Access-token signing keys; the private half sealed (AES-256-GCM) under the server secret.
CREATE TABLE signing_keys (
    kid            TEXT    PRIMARY KEY NOT NULL,
    alg            TEXT    NOT NULL,
    sealed_private BLOB    NOT NULL,
    public_jwk     TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    activates_at   INTEGER NOT NULL,
    retires_at     INTEGER
);
