-- Delivery through providers (Twilio): the provider's own status, a rank so that late status
-- callbacks never move a message backwards, error codes, send attempts and the outbox claim.

ALTER TABLE messages ADD COLUMN provider_status TEXT;
ALTER TABLE messages ADD COLUMN status_rank INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN error_code TEXT;
ALTER TABLE messages ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN claimed_at INTEGER;
ALTER TABLE messages ADD COLUMN sent_at INTEGER;

UPDATE messages SET status_rank = 20 WHERE status IN ('delivered', 'failed', 'suppressed');

-- Claimed by a dispatcher and not yet answered by the provider.
CREATE INDEX messages_sending ON messages(claimed_at) WHERE status = 'sending';
-- The navigators' inbox of messages from numbers that match no client.
CREATE INDEX messages_unmatched ON messages(id) WHERE client_id IS NULL;

-- Every status callback, as it came, in the order it came: the delivery timeline. A callback
-- may arrive before the send's own response is recorded; it is applied when the id is known.
CREATE TABLE delivery_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    channel     TEXT NOT NULL,
    provider_id TEXT NOT NULL,
    status      TEXT NOT NULL,
    error_code  TEXT,
    at          INTEGER NOT NULL
);
CREATE INDEX delivery_events_provider ON delivery_events(channel, provider_id);
