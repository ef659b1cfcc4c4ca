-- Token sessions: the refresh family's salt, generation and last rotation.
ALTER TABLE sessions ADD COLUMN refresh_salt BYTEA;
ALTER TABLE sessions ADD COLUMN refresh_generation BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN refresh_rotated_at BIGINT;
CREATE INDEX sessions_revoked_at ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

-- Access-token signing keys; the private half sealed (AES-256-GCM) under the server secret.
CREATE TABLE signing_keys (
    kid            TEXT   PRIMARY KEY,
    alg            TEXT   NOT NULL,
    sealed_private BYTEA  NOT NULL,
    public_jwk     TEXT   NOT NULL,
    created_at     BIGINT NOT NULL,
    activates_at   BIGINT NOT NULL,
    retires_at     BIGINT
);
