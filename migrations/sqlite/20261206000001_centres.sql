-- Many centres in one deployment (issue 21). A centre owns its staff, clients, programs,
-- partners and API tokens (a `centre_id` on each); everything else is owned by one of those
-- (a client's answers, a program's texts, a staff member's sessions), so scoping any table to a
-- centre is one join.

CREATE TABLE centres (
    id               TEXT PRIMARY KEY,           -- a short code: default, north-end
    name             TEXT NOT NULL,
    time_zone        TEXT NOT NULL,              -- IANA, e.g. America/Toronto
    send_between     TEXT,                       -- quiet hours, "09:00-20:00"; NULL: the deployment's [schedule]
    holidays         TEXT NOT NULL DEFAULT '',   -- comma-separated YYYY-MM-DD
    languages        TEXT NOT NULL DEFAULT '',   -- comma-separated tags enabled; '' : the deployment's
    default_language TEXT NOT NULL,
    twilio_from      TEXT,                       -- its own number, E.164
    twilio_messaging_service TEXT,               -- or its own messaging service (MG…)
    twilio_account_sid TEXT,                     -- its own Twilio account, if it has one
    twilio_auth_token_file TEXT,                 -- that account's auth token, in a file only the service reads
    telegram_bot     TEXT,                       -- its bot's user name
    alert_email      TEXT,                       -- where its alerts go when nobody is on call
    deid_key         TEXT,                       -- its pseudonym key; NULL: the deployment's (the default centre's)
    shares_figures   INTEGER NOT NULL DEFAULT 0, -- agrees to its de-identified figures in the group report
    created_at       INTEGER NOT NULL
);
CREATE UNIQUE INDEX centres_twilio_from ON centres(twilio_from) WHERE twilio_from IS NOT NULL;
CREATE UNIQUE INDEX centres_messaging_service ON centres(twilio_messaging_service) WHERE twilio_messaging_service IS NOT NULL;
CREATE UNIQUE INDEX centres_telegram_bot ON centres(telegram_bot) WHERE telegram_bot IS NOT NULL;

-- Today's deployment is the default centre; `serve` fills it from the configuration.
INSERT INTO centres (id, name, time_zone, default_language, created_at) VALUES ('default', '', 'UTC', 'en', 0);

ALTER TABLE clients ADD COLUMN centre_id TEXT NOT NULL DEFAULT 'default';
CREATE INDEX clients_centre ON clients(centre_id);
ALTER TABLE staff ADD COLUMN centre_id TEXT NOT NULL DEFAULT 'default';
-- An administrator of the whole deployment: every centre, and adds centres.
ALTER TABLE staff ADD COLUMN all_centres INTEGER NOT NULL DEFAULT 0;
UPDATE staff SET all_centres = 1 WHERE role = 'admin';
ALTER TABLE programs ADD COLUMN centre_id TEXT NOT NULL DEFAULT 'default';
CREATE INDEX programs_centre ON programs(centre_id);
ALTER TABLE partners ADD COLUMN centre_id TEXT NOT NULL DEFAULT 'default';
ALTER TABLE api_tokens ADD COLUMN centre_id TEXT NOT NULL DEFAULT 'default';
-- A text from a number no client has is the centre's whose number or bot it reached (a
-- client's own messages are their centre's through the client).
ALTER TABLE messages ADD COLUMN centre_id TEXT;
