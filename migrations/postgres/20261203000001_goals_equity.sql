-- What matters becomes goals, in the client's own words; sociodemographics kept apart from the
-- answers and only with their own consent; health-system use for the before-and-after; the
-- client's and the provider's experience. Every table is owned by a client (goals, ratings,
-- sociodemographics, health use, experience) or by a referral (provider feedback), so scoping
-- to a centre is one join through clients.

-- A goal: a short text in the client's words (never translated), optional steps, a target date,
-- the referral it belongs to. status: active | met | changed | dropped.
CREATE TABLE goals (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id   TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    referral_id BIGINT REFERENCES referrals(id) ON DELETE SET NULL,
    text        TEXT NOT NULL,
    steps       TEXT,
    target_on   TEXT,                 -- YYYY-MM-DD
    status      TEXT NOT NULL DEFAULT 'active',
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    closed_by   TEXT,
    closed_at   BIGINT
);
CREATE INDEX goals_client ON goals(client_id, status, id);
CREATE INDEX goals_referral ON goals(referral_id) WHERE referral_id IS NOT NULL;

-- "How close are you to this goal?" 0-10: when it is set, at each check-in, or told to the
-- navigator. source: set | client | navigator. Owned by the goal (and so by its client).
CREATE TABLE goal_ratings (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    goal_id     BIGINT NOT NULL REFERENCES goals(id) ON DELETE CASCADE,
    client_id   TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    rating      BIGINT NOT NULL,
    source      TEXT NOT NULL,
    session_id  BIGINT,
    actor       TEXT NOT NULL,
    at          BIGINT NOT NULL
);
CREATE INDEX goal_ratings_goal ON goal_ratings(goal_id, id);
CREATE INDEX goal_ratings_client ON goal_ratings(client_id, id);

-- A goal check-in session is about one goal.
ALTER TABLE sessions ADD COLUMN goal_id BIGINT REFERENCES goals(id) ON DELETE SET NULL;

-- Sociodemographics (the intake questions of Ontario's community health centres), apart from the
-- answers: one row per client and question, the latest kept, each change audited.
-- value: an option code, a number (year, household size), or prefer-not | do-not-know.
-- source: the flow, or staff:<username> entered in person.
CREATE TABLE sociodemographics (
    client_id   TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    question    TEXT NOT NULL,
    value       TEXT NOT NULL,
    source      TEXT NOT NULL,
    at          BIGINT NOT NULL,
    PRIMARY KEY (client_id, question)
);
-- The latest consent to be asked them (the ledger holds every change, purpose 'sociodemographics').
ALTER TABLE clients ADD COLUMN sociodemographics TEXT;   -- granted | revoked | NULL: never asked
-- Who may see them: a setting of each staff member, off until an administrator turns it on.
ALTER TABLE staff ADD COLUMN sees_sociodemographics BIGINT NOT NULL DEFAULT 0;

-- Health-system use, imported from the EMR or the region: visits in a period, for the
-- before-and-after comparison. period: before | after (the referral). Owned by the client.
CREATE TABLE health_use (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id   TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    period      TEXT NOT NULL,
    primary_care BIGINT NOT NULL,
    ed_visits   BIGINT NOT NULL,
    admissions  BIGINT NOT NULL,
    imported_by TEXT NOT NULL,
    at          BIGINT NOT NULL
);
CREATE UNIQUE INDEX health_use_one ON health_use(client_id, period);

-- A provider's word on the referral, from the link in the summary they received: one per
-- summary (sent again, it replaces the first). Owned by the referral.
CREATE TABLE provider_feedback (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    summary_id  BIGINT NOT NULL REFERENCES referrer_summaries(id) ON DELETE CASCADE,
    referral_id BIGINT NOT NULL REFERENCES referrals(id) ON DELETE CASCADE,
    useful      BIGINT,              -- 1-5: how useful matters' follow-up was to them
    would_refer BIGINT,              -- 1: would refer again
    comment     TEXT,
    actor       TEXT NOT NULL,
    at          BIGINT NOT NULL
);
CREATE INDEX provider_feedback_referral ON provider_feedback(referral_id);
CREATE UNIQUE INDEX provider_feedback_one ON provider_feedback(summary_id);
