-- Per-user marks for the revocation feed: access tokens of `user_id` whose `iat` (unix seconds)
-- is below `issued_before` say something no longer true (deleted, disabled, roles changed) and
-- must be refused. `revoked_at` (unix microseconds) is when the mark was last raised, the feed's
-- cursor. No foreign key: a deleted user's mark must outlive the user row.
CREATE TABLE user_token_watermarks (
    user_id       UUID   PRIMARY KEY NOT NULL,
    issued_before BIGINT NOT NULL,
    revoked_at    BIGINT NOT NULL
);
CREATE INDEX user_token_watermarks_revoked_at ON user_token_watermarks (revoked_at);
