-- A centre's alert address (a shared mailbox) is told with its administrators: a send of an
-- alert to no staff member.
ALTER TABLE alert_sends ALTER COLUMN staff_id DROP NOT NULL;
