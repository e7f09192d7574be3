-- Safe to run for real: test clients are a kind of client of their own, and a provider's
-- message id is unique per direction (an inbound SID may equal an outbound one).

-- real | test. Only the simulator makes test clients, and only test clients are on the
-- simulator channel; a real client with no phone or Telegram chat yet is reachable by nothing.
ALTER TABLE clients ADD COLUMN kind TEXT NOT NULL DEFAULT 'real';
UPDATE clients SET kind = 'test'
 WHERE id LIKE 'test-%'
    OR id IN (SELECT client_id FROM audit_log
               WHERE action = 'client-add' AND actor IN ('simulator', 'simulate'));
DELETE FROM channel_addresses
 WHERE channel = 'simulator' AND client_id IN (SELECT id FROM clients WHERE kind = 'real');

DROP INDEX messages_provider;
CREATE UNIQUE INDEX messages_provider ON messages(channel, direction, provider_id) WHERE provider_id IS NOT NULL;

-- The loop guard counts a client's texts of the last ten minutes: by time, not their whole history.
CREATE INDEX messages_client_out ON messages(client_id, created_at) WHERE direction = 'out';
