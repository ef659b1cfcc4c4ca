-- Times are unix microseconds (INTEGER) so that both backends compare them the same way.
CREATE TABLE users (
    id            BLOB    PRIMARY KEY NOT NULL,
    username      TEXT    NOT NULL,
    username_key  TEXT    NOT NULL,
    email         TEXT,
    roles         TEXT    NOT NULL DEFAULT '',
    disabled      INTEGER NOT NULL DEFAULT 0,
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE UNIQUE INDEX users_username_key ON users (username_key);

CREATE TABLE sessions (
    id                  BLOB    PRIMARY KEY NOT NULL,
    user_id             BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind                TEXT    NOT NULL,
    token_hash          BLOB    NOT NULL,
    created_at          INTEGER NOT NULL,
    last_seen_at        INTEGER NOT NULL,
    absolute_expires_at INTEGER NOT NULL,
    user_agent          TEXT,
    ip                  TEXT,
    revoked_at          INTEGER
);
CREATE UNIQUE INDEX sessions_token_hash ON sessions (token_hash);
CREATE INDEX sessions_user_created ON sessions (user_id, created_at);

-- No foreign keys: the log outlives the users and sessions it mentions.
CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      INTEGER NOT NULL,
    kind    TEXT    NOT NULL,
    actor   BLOB,
    subject BLOB,
    session BLOB,
    ip      TEXT,
    detail  TEXT
);
CREATE INDEX audit_log_kind ON audit_log (kind, id);
CREATE INDEX audit_log_subject ON audit_log (subject, id);
