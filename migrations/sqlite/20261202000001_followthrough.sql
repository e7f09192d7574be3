-- Follow-up belongs to a referral, not only to the client: the sessions a referral's steps start,
-- and the scores they give, name the referral they measure. Owned by the referral (and so by its
-- client); a referral removed leaves them with no referral rather than removing the client's answers.
ALTER TABLE sessions ADD COLUMN referral_id INTEGER REFERENCES referrals(id) ON DELETE SET NULL;
ALTER TABLE scores ADD COLUMN referral_id INTEGER REFERENCES referrals(id) ON DELETE SET NULL;

-- What was there before: the referral made last before it began, else the client's first one.
UPDATE sessions SET referral_id = COALESCE(
    (SELECT r.id FROM referrals r WHERE r.client_id = sessions.client_id AND r.referred_at <= sessions.started_at
      ORDER BY r.referred_at DESC, r.id DESC LIMIT 1),
    (SELECT r.id FROM referrals r WHERE r.client_id = sessions.client_id ORDER BY r.id LIMIT 1));
UPDATE scores SET referral_id = COALESCE(
    (SELECT s.referral_id FROM sessions s WHERE s.id = scores.session_id),
    (SELECT r.id FROM referrals r WHERE r.client_id = scores.client_id AND r.referred_at <= scores.at
      ORDER BY r.referred_at DESC, r.id DESC LIMIT 1),
    (SELECT r.id FROM referrals r WHERE r.client_id = scores.client_id ORDER BY r.id LIMIT 1));
CREATE INDEX scores_referral ON scores(referral_id, instrument, id);

-- A sequence runs once at a time per client and referral: two referrals may each have theirs.
DROP INDEX enrolments_one_running;
CREATE UNIQUE INDEX enrolments_one_running ON enrolments(client_id, sequence_id, COALESCE(referral_id, 0))
    WHERE status IN ('active', 'paused');
CREATE INDEX enrolments_referral ON enrolments(referral_id) WHERE referral_id IS NOT NULL;

-- A referral's uptake over time: every change, never updated. Owned by the referral.
-- source: navigator | client | api | system | before (the uptake it had when history began).
CREATE TABLE referral_uptake (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    referral_id INTEGER NOT NULL REFERENCES referrals(id) ON DELETE CASCADE,
    uptake      TEXT NOT NULL,
    source      TEXT NOT NULL,
    actor       TEXT NOT NULL,
    at          INTEGER NOT NULL
);
CREATE INDEX referral_uptake_referral ON referral_uptake(referral_id, id);
INSERT INTO referral_uptake (referral_id, uptake, source, actor, at)
    SELECT id, uptake, 'before', 'system', created_at FROM referrals;

-- The consent ledger holds more than one purpose: messaging (what `clients.consent` follows)
-- and reminders (a text the day before a program's session). `clients.reminders` is the latest.
ALTER TABLE consent_events ADD COLUMN purpose TEXT NOT NULL DEFAULT 'messaging';
ALTER TABLE clients ADD COLUMN reminders TEXT;   -- granted | revoked | NULL: never asked

-- Reminders sent the day before a program's session: one per referral and session day.
-- Owned by the referral.
CREATE TABLE program_reminders (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    referral_id INTEGER NOT NULL REFERENCES referrals(id) ON DELETE CASCADE,
    session_on  TEXT NOT NULL,      -- the session's local date, YYYY-MM-DD
    message_id  INTEGER,
    created_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX program_reminders_once ON program_reminders(referral_id, session_on);
