-- Finding the accounts with one exact email address (linking a provider login by verified email),
-- compared with ASCII letters folded to lower case, as the server compares addresses. SQLite's
-- built-in lower() folds ASCII only, which is exactly that fold; the lookup must use the same
-- expression, lower(email), to use this index.
CREATE INDEX users_email_key ON users (lower(email));
