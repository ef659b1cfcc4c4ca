-- Second factors (docs/factors.md): authenticator apps (TOTP) and passkeys, recovery codes, the
-- challenge a correct password leaves when a second step is due, and how each session was
-- authenticated. Times are unix microseconds (BIGINT), as in 0001_initial.

-- One row per factor. `kind` is 'totp' or 'passkey'. A TOTP factor's `secret` is sealed
-- (AES-256-GCM under a key derived from the server secret, bound to the factor's id);
-- `last_step` is the last RFC 6238 time step accepted, so no code is used twice. A passkey's
-- `credential` is the WebAuthn library's JSON (public key, counter, backup flags) and
-- `credential_id` its id, for discoverable sign-in. A factor counts once `confirmed_at` is set.
CREATE TABLE factors (
    id            UUID   NOT NULL,
    user_id       UUID   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind          TEXT   NOT NULL,
    name          TEXT   NOT NULL,
    secret        BYTEA,
    credential    TEXT,
    credential_id BYTEA,
    created_at    BIGINT NOT NULL,
    confirmed_at  BIGINT,
    last_used_at  BIGINT,
    last_step     BIGINT,
    CONSTRAINT factors_pkey PRIMARY KEY (id)
);
CREATE INDEX factors_user ON factors (user_id);
CREATE UNIQUE INDEX factors_credential_id ON factors (credential_id);

-- Recovery codes: SHA-256 of each (they are random, 50 bits, and tried under the account
-- lockout), spent by setting used_at; a new set replaces the old one.
CREATE TABLE recovery_codes (
    user_id    UUID   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  BYTEA  NOT NULL,
    created_at BIGINT NOT NULL,
    used_at    BIGINT,
    CONSTRAINT recovery_codes_pkey PRIMARY KEY (user_id, code_hash)
);

-- The second step of a login: SHA-256 of the mfa_token a correct first factor was answered
-- with. `kind` is the session kind it may complete into ('cookie' or 'token'), `amr` the first
-- factor's methods (space-separated RFC 8176 values).
-- Single use: completing it deletes the row; wrong codes count in `attempts`.
CREATE TABLE mfa_challenges (
    token_hash BYTEA  NOT NULL,
    user_id    UUID   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT   NOT NULL,
    amr        TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    attempts   BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT mfa_challenges_pkey PRIMARY KEY (token_hash)
);
CREATE INDEX mfa_challenges_user ON mfa_challenges (user_id);
CREATE INDEX mfa_challenges_expires_at ON mfa_challenges (expires_at);

-- How the session was authenticated (space-separated RFC 8176 values) and when: the `amr` and
-- `auth_time` of its tokens and /v1/me, and what step-up checks. Sessions from before this
-- were opened by a password (or a provider: either way one factor, when they were created).
-- A row written without them (a node of the previous version during a rolling upgrade) reads
-- as a password at the epoch: never recent enough for a sensitive action.
ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';
ALTER TABLE sessions ADD COLUMN auth_time BIGINT NOT NULL DEFAULT 0;
UPDATE sessions SET auth_time = created_at;

-- When a rule requiring a second factor for one of the user's roles first applied to them
-- (`[factors] required_for_roles`): the start of their grace period to enroll one.
ALTER TABLE users ADD COLUMN factor_required_since BIGINT;
