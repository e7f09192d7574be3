-- The bot listens and a person hears: who to alert and how, alerts and their sends,
-- conversations with a navigator, navigators' notes, and what each staff member has seen.

-- How to reach a staff member with an alert, and when they work (`Mon-Fri 09:00-17:00` in the
-- centre's zone; NULL: [alerts] working_hours). A staff member's number is never a client's.
ALTER TABLE staff ADD COLUMN email TEXT;
ALTER TABLE staff ADD COLUMN phone TEXT;
ALTER TABLE staff ADD COLUMN working_hours TEXT;
CREATE UNIQUE INDEX staff_phone ON staff(phone) WHERE phone IS NOT NULL;

-- An urgent flag pushed to a person, escalated until someone acknowledges it. Owned by the
-- flag's client. level: who gets it next (0: the navigator in working hours, or the first
-- on-call person; then the next on the list; then every administrator).
-- status: pending (not sent yet) | sent | acknowledged | closed (the task was done first).
CREATE TABLE alerts (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    flag_id     BIGINT NOT NULL REFERENCES flags(id) ON DELETE CASCADE,
    client_id   TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    level       BIGINT NOT NULL DEFAULT 0,
    status      TEXT NOT NULL DEFAULT 'pending',
    due_at      BIGINT,
    lease_until BIGINT,
    claim_token TEXT,
    acked_at    BIGINT,
    acked_by    TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX alerts_due ON alerts(due_at) WHERE status IN ('pending', 'sent');
CREATE INDEX alerts_client ON alerts(client_id, id);
CREATE UNIQUE INDEX alerts_flag ON alerts(flag_id);

-- Each email or SMS an alert sent: to whom, how, and whether it left. Owned by the alert.
CREATE TABLE alert_sends (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id  BIGINT NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
    staff_id  BIGINT NOT NULL REFERENCES staff(id),
    channel   TEXT NOT NULL,
    address   TEXT NOT NULL,
    level     BIGINT NOT NULL,
    status    TEXT NOT NULL,
    error     TEXT,
    at        BIGINT NOT NULL
);
CREATE INDEX alert_sends_alert ON alert_sends(alert_id);
CREATE INDEX alert_sends_staff ON alert_sends(staff_id, at);

-- A navigator's conversation with a client: opened by a text outside any flow (or by the
-- navigator writing first), closed by hand or after 48 hours of quiet. While it is open the
-- bot keeps quiet and the client's scheduled steps wait. Owned by the client.
CREATE TABLE conversations (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id    TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    status       TEXT NOT NULL DEFAULT 'open',   -- open | closed
    opened_by    TEXT NOT NULL,                  -- client | staff:username
    opened_at    BIGINT NOT NULL,
    last_at      BIGINT NOT NULL,
    closed_at    BIGINT,
    closed_by    TEXT,                           -- staff:username | quiet
    unread       BIGINT NOT NULL DEFAULT 0          -- the client's texts no one has answered
);
CREATE UNIQUE INDEX conversations_open ON conversations(client_id) WHERE status = 'open';
CREATE INDEX conversations_client ON conversations(client_id, id);
CREATE INDEX conversations_quiet ON conversations(last_at) WHERE status = 'open';

-- What navigators did that no message records: calls, visits, accompaniments, attempts that
-- got no answer, notes (and the note that resolved a task). Never sent to the client. Owned by
-- the client; written by a staff member.
CREATE TABLE notes (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id  TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    staff_id   BIGINT REFERENCES staff(id),
    kind       TEXT NOT NULL,      -- call | visit | accompaniment | no-answer | note | task
    body       TEXT NOT NULL,
    flag_id    BIGINT,
    happened_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX notes_client ON notes(client_id, happened_at);

-- When each staff member last opened their notifications: what came after is unread.
ALTER TABLE staff ADD COLUMN notifications_seen_at BIGINT NOT NULL DEFAULT 0;
