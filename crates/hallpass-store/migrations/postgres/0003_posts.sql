-- The demo community board. Times are unix microseconds (BIGINT), as in 0001_initial.
CREATE TABLE posts (
    id         UUID   PRIMARY KEY,
    author_id  UUID   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title      TEXT   NOT NULL,
    body       TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- The board lists newest first, ties by id.
CREATE INDEX posts_created ON posts (created_at DESC, id DESC);
-- Deleting a user finds their posts without a scan (PostgreSQL does not index foreign keys).
CREATE INDEX posts_author ON posts (author_id);
