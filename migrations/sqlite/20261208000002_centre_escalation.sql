-- A centre's own alert escalation: minutes before an unacknowledged crisis or urgent alert goes
-- on to the next people. Empty: the deployment's [alerts] settings.
ALTER TABLE centres ADD COLUMN crisis_escalate_minutes INTEGER;
ALTER TABLE centres ADD COLUMN urgent_escalate_minutes INTEGER;
