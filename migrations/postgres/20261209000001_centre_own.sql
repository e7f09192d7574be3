-- What a centre offers its clients: the flows its staff may start and the follow-up sequences
-- they may enrol clients in, comma-separated ids. Empty: every one of the deployment's.
ALTER TABLE centres ADD COLUMN flows TEXT NOT NULL DEFAULT '';
ALTER TABLE centres ADD COLUMN sequences TEXT NOT NULL DEFAULT '';
-- A centre's own Telegram bot: the file its token is in (never the token). Empty: the
-- deployment's bot serves its clients.
ALTER TABLE centres ADD COLUMN telegram_token_file TEXT;
