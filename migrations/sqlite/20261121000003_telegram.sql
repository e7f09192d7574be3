-- Telegram (DESIGN §5): one-time invites that link a chat to a client, the buttons of a question
-- sent as an inline keyboard, and the last update handled, so a restart neither loses nor replays.

-- An invite's code is a bearer secret: only its SHA-256 is kept.
CREATE TABLE telegram_invites (
    code_hash  TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    used_chat  TEXT
);
CREATE INDEX telegram_invites_client ON telegram_invites(client_id);

-- The answer options of a question, for channels that show them as buttons (JSON).
ALTER TABLE messages ADD COLUMN buttons TEXT;

-- Per bot: the id of the last update fully handled.
CREATE TABLE telegram_updates (
    bot_id         INTEGER PRIMARY KEY,
    last_update_id INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
