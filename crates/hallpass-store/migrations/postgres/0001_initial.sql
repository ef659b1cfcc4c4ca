-- Times are unix microseconds (BIGINT) so that both backends compare them the same way.
CREATE TABLE users (
    id            UUID    PRIMARY KEY,
    username      TEXT    NOT NULL,
    username_key  TEXT    NOT NULL,
    email         TEXT,
    roles         TEXT    NOT NULL DEFAULT '',
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    password_hash TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL
);
CREATE UNIQUE INDEX users_username_key ON users (username_key);

CREATE TABLE sessions (
    id                  UUID   PRIMARY KEY,
    user_id             UUID   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind                TEXT   NOT NULL,
    token_hash          BYTEA  NOT NULL,
    created_at          BIGINT NOT NULL,
    last_seen_at        BIGINT NOT NULL,
    absolute_expires_at BIGINT NOT NULL,
    user_agent          TEXT,
    ip                  TEXT,
    revoked_at          BIGINT
);
CREATE UNIQUE INDEX sessions_token_hash ON sessions (token_hash);
CREATE INDEX sessions_user_created ON sessions (user_id, created_at);

-- No foreign keys: the log outlives the users and sessions it mentions.
CREATE TABLE audit_log (
    id      BIGSERIAL PRIMARY KEY,
    at      BIGINT NOT NULL,
    kind    TEXT   NOT NULL,
    actor   UUID,
    subject UUID,
    session UUID,
    ip      TEXT,
    detail  TEXT
);
CREATE INDEX audit_log_kind ON audit_log (kind, id);
CREATE INDEX audit_log_subject ON audit_log (subject, id);
