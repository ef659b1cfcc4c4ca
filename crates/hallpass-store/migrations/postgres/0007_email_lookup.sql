-- Finding the accounts with one exact email address (linking a provider login by verified email),
-- compared with ASCII letters folded to lower case, as the server compares addresses.
-- PostgreSQL's lower() also folds non-ASCII letters (by the database's locale), which SQLite's
-- does not, so the fold is spelled out with translate(); the lookup must use this very expression
-- to use the index.
CREATE INDEX users_email_key
    ON users (translate(email, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'));
