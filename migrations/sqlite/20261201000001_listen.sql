-- The bot listens and a person hears (issue 17).

-- The part of the day a client chose (morning | afternoon | evening | any-time): every scheduled step
-- and nudge goes inside it. Owned by the client.
ALTER TABLE clients ADD COLUMN best_time TEXT;
UPDATE clients SET best_time = (SELECT a.value FROM answers a WHERE a.client_id = clients.id AND a.record_key = 'client.best_time' AND a.status = 'answered' ORDER BY a.id DESC LIMIT 1);
