-- Retention: a message whose words were removed under the centre's policy keeps its row (when,
-- which channel, delivery) with an empty body and the time they were removed.
ALTER TABLE messages ADD COLUMN purged_at BIGINT;
