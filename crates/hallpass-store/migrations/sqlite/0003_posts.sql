-- The demo community board. Times are unix microseconds (INTEGER), as in 0001_initial.
CREATE TABLE posts (
    id         BLOB    PRIMARY KEY NOT NULL,
    author_id  BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title      TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
-- The board lists newest first, ties by id.
CREATE INDEX posts_created ON posts (created_at DESC, id DESC);
-- Deleting a user finds their posts without a scan.
CREATE INDEX posts_author ON posts (author_id);
