-- Email: whether an account's address is proven, addresses unique among accounts, the tokens
-- emailed links and codes carry, and the outbox mail waits in until it is delivered. Times are
-- unix microseconds (BIGINT), as in 0001_initial; counters are BIGINT like refresh_generation,
-- so both backends decode them as one type.

-- Set once a link or code sent to the address came back (or a provider vouched for it).
-- Existing addresses were never proven.
ALTER TABLE users ADD COLUMN email_verified BOOLEAN NOT NULL DEFAULT FALSE;

-- Addresses become unique under the fold the server compares them with (ASCII letters to lower
-- case, spelled out with translate() as in 0007), so that an address names one account: a
-- reset or a sign-in link sent to it cannot be for two people. Accounts made before this could
-- share one, and a migration that fails on them would keep the server from starting until
-- someone edited the database by hand. So the oldest account with an address (by created_at,
-- ties by id) keeps it and the later ones lose theirs (NULL: no address, which they may set
-- again and prove). The subquery reads the rows as they were before the UPDATE, and the oldest
-- account is never cleared anyway.
UPDATE users SET email = NULL
WHERE email IS NOT NULL
  AND EXISTS (
      SELECT 1 FROM users older
      WHERE translate(older.email, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
          = translate(users.email, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
        AND (older.created_at, older.id) < (users.created_at, users.id)
  );
-- The lookup index of 0007, now unique, on the same expression (lookups must use it verbatim).
DROP INDEX users_email_key;
CREATE UNIQUE INDEX users_email_key
    ON users (translate(email, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'));

-- Emailed tokens: SHA-256 of the link's token (32 bytes) and, if the mail carries a short code
-- too, its HMAC. `purpose` is EmailPurpose::as_str; `email` the address it was sent to (for a
-- change of address, the new one). A token is spent by deleting its row.
CREATE TABLE email_tokens (
    token_hash    BYTEA  NOT NULL,
    code_hash     BYTEA,
    user_id       UUID   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose       TEXT   NOT NULL,
    email         TEXT   NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    code_attempts BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT email_tokens_pkey PRIMARY KEY (token_hash)
);
-- A user's token of one purpose (a newer one voids the older, codes are checked against it);
-- deleting a user finds their tokens without a scan (PostgreSQL does not index foreign keys).
CREATE INDEX email_tokens_user ON email_tokens (user_id, purpose);
-- Purging expired tokens without a scan.
CREATE INDEX email_tokens_expires_at ON email_tokens (expires_at);

-- Mail to deliver, written in the same transaction as what it announces or carries, then
-- claimed by a worker: `claimed_until` is the claim's lease, `attempts` counts claims. The
-- bodies are blanked ('') once the mail is sent or given up on (they may hold a live link).
CREATE TABLE outbox (
    id              UUID   PRIMARY KEY,
    to_addr         TEXT   NOT NULL,
    subject         TEXT   NOT NULL,
    text_body       TEXT   NOT NULL,
    html_body       TEXT   NOT NULL,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    claimed_until   BIGINT,
    sent_at         BIGINT,
    failed_at       BIGINT,
    last_error      TEXT
);
-- Claiming due mail reads only the unfinished rows, in the order they are claimed in; finished
-- rows (nearly all of them) stay out of this index.
CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE sent_at IS NULL AND failed_at IS NULL;
-- The admin console's failed mails, newest first, and purging old finished rows.
CREATE INDEX outbox_failed_at ON outbox (failed_at) WHERE failed_at IS NOT NULL;
CREATE INDEX outbox_sent_at ON outbox (sent_at) WHERE sent_at IS NOT NULL;
-- Counting what one address was sent lately (mails_per_address_per_hour), under the fold
-- addresses are compared with; the count must use this very expression.
CREATE INDEX outbox_to_key
    ON outbox (translate(to_addr, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), created_at);
