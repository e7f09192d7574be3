-- A centre's alert address (a shared mailbox) is told with its administrators: a send of an
-- alert to no staff member. SQLite cannot drop a NOT NULL, so the table is rebuilt.
CREATE TABLE alert_sends_new (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id  INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
    staff_id  INTEGER REFERENCES staff(id),
    channel   TEXT NOT NULL,
    address   TEXT NOT NULL,
    level     INTEGER NOT NULL,
    status    TEXT NOT NULL,
    error     TEXT,
    at        INTEGER NOT NULL
);
INSERT INTO alert_sends_new (id, alert_id, staff_id, channel, address, level, status, error, at)
    SELECT id, alert_id, staff_id, channel, address, level, status, error, at FROM alert_sends;
DROP TABLE alert_sends;
ALTER TABLE alert_sends_new RENAME TO alert_sends;
CREATE INDEX alert_sends_alert ON alert_sends(alert_id);
CREATE INDEX alert_sends_staff ON alert_sends(staff_id, at);
