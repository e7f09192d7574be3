-- Follow-up sequences and the scheduler (DESIGN §3): enrolments, and every scheduled step as a
-- durable job row. A job row is also the step's history: when it was planned, when it went out,
-- or why it was moved, skipped or cancelled.

CREATE TABLE enrolments (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id   TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    sequence_id TEXT NOT NULL,
    revision    TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'active',   -- active | paused | cancelled | completed
    enrolled_at BIGINT NOT NULL,
    referral_id BIGINT,
    referred_at BIGINT,                          -- the referral date the steps are anchored to
    actor       TEXT NOT NULL,
    ended_at    BIGINT,
    end_reason  TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX enrolments_one_running ON enrolments(client_id, sequence_id) WHERE status IN ('active', 'paused');
CREATE INDEX enrolments_client ON enrolments(client_id, id);

-- Jobs were the timeout of a question (kind 'timeout'); now also a sequence's steps (kind 'step').
-- status: pending | running (claimed, until lease_until) | blocked (until job after_job's flow
-- ends) | paused | done | skipped | cancelled | failed (gave up after repeated errors).
ALTER TABLE jobs ADD COLUMN enrolment_id BIGINT;
ALTER TABLE jobs ADD COLUMN occurrence BIGINT NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN flow_id TEXT;
ALTER TABLE jobs ADD COLUMN time_point TEXT;
ALTER TABLE jobs ADD COLUMN planned_at BIGINT;       -- when the sequence put it, before quiet hours
ALTER TABLE jobs ADD COLUMN after_job BIGINT;        -- blocked until that step's flow ends
ALTER TABLE jobs ADD COLUMN delay_ms BIGINT;         -- then due this long after
ALTER TABLE jobs ADD COLUMN waits_for BIGINT;        -- a session it waits on (collision: wait)
ALTER TABLE jobs ADD COLUMN lease_until BIGINT;
ALTER TABLE jobs ADD COLUMN claim_token TEXT;
ALTER TABLE jobs ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;   -- claims so far
ALTER TABLE jobs ADD COLUMN fired_at BIGINT;
ALTER TABLE jobs ADD COLUMN note TEXT;                -- why it moved, was skipped or cancelled
CREATE UNIQUE INDEX jobs_step ON jobs(enrolment_id, step_id, occurrence) WHERE enrolment_id IS NOT NULL;
CREATE INDEX jobs_lease ON jobs(lease_until) WHERE status = 'running';
CREATE INDEX jobs_after ON jobs(after_job) WHERE status = 'blocked';
CREATE INDEX jobs_waiting ON jobs(waits_for) WHERE waits_for IS NOT NULL;
CREATE INDEX jobs_client ON jobs(client_id);

-- When messages may go out to one client (minutes after local midnight); NULL: the centre's window.
ALTER TABLE clients ADD COLUMN send_start BIGINT;
ALTER TABLE clients ADD COLUMN send_end BIGINT;
