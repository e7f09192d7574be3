-- The client's record (DESIGN §6). Times are milliseconds since the Unix epoch, UTC.

CREATE TABLE clients (
    id           TEXT PRIMARY KEY,
    chart_number TEXT,
    language     TEXT NOT NULL,
    time_zone    TEXT NOT NULL,
    -- unknown | granted | revoked: the latest entry of the consent ledger, kept here for speed
    consent      TEXT NOT NULL DEFAULT 'unknown',
    status       TEXT NOT NULL DEFAULT 'active',
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);

CREATE TABLE channel_addresses (
    channel    TEXT NOT NULL,
    address    TEXT NOT NULL,
    client_id  TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (channel, address)
);
CREATE INDEX channel_addresses_client ON channel_addresses(client_id);

-- The consent ledger: every change, never updated.
CREATE TABLE consent_events (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    channel   TEXT NOT NULL,
    change    TEXT NOT NULL,       -- granted | revoked
    source    TEXT NOT NULL,       -- keyword, consent-flow, navigator, provider
    wording   TEXT,                -- what the client was asked or typed
    actor     TEXT NOT NULL,
    at        BIGINT NOT NULL
);
CREATE INDEX consent_events_client ON consent_events(client_id, id);

CREATE TABLE referrals (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id      TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    referred_at    BIGINT NOT NULL,
    referred_by    TEXT,
    reasons        TEXT NOT NULL DEFAULT '',   -- comma-separated: social-isolation, loneliness, …
    rx_type        TEXT,                       -- type of social prescription
    program        TEXT,                       -- the program's name, as clients know it
    support_level  TEXT,                       -- signposting | light | medium | holistic
    uptake         TEXT NOT NULL DEFAULT 'not-yet',  -- not-yet | attended | declined | dropped-out
    closed_at      BIGINT,
    closing_reason TEXT,
    created_at     BIGINT NOT NULL
);
CREATE INDEX referrals_client ON referrals(client_id, id);

-- Every revision of every flow a session ran on, so a session finishes on the one it started.
CREATE TABLE flow_revisions (
    flow_id    TEXT NOT NULL,
    revision   TEXT NOT NULL,
    source     TEXT NOT NULL,
    first_seen BIGINT NOT NULL,
    PRIMARY KEY (flow_id, revision)
);

CREATE TABLE sessions (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id         TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    flow_id           TEXT NOT NULL,
    revision          TEXT NOT NULL,
    state             TEXT NOT NULL,        -- the engine's session state, JSON
    status            TEXT NOT NULL,        -- active | completed | declined | stopped | interrupted | …
    time_point        TEXT,                 -- baseline, weekly, 3-month, 6-month
    version           BIGINT NOT NULL DEFAULT 0,
    prompt_message_id BIGINT,              -- the question now waiting for an answer
    started_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    ended_at          BIGINT
);
CREATE UNIQUE INDEX sessions_one_active ON sessions(client_id) WHERE status = 'active';
CREATE INDEX sessions_client ON sessions(client_id, id);

-- The message timeline, and the outbox (direction 'out', status 'queued').
CREATE TABLE messages (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id   TEXT REFERENCES clients(id) ON DELETE CASCADE,
    direction   TEXT NOT NULL,          -- in | out
    channel     TEXT NOT NULL,
    address     TEXT,
    provider_id TEXT,                   -- MessageSid, update id, simulator id
    body        TEXT NOT NULL,
    message_key TEXT,                   -- the Fluent id it was built from
    session_id  BIGINT,
    priority    BIGINT NOT NULL DEFAULT 0,  -- 0 reply, 1 bulk
    status      TEXT NOT NULL,          -- received | queued | sent | delivered | failed | suppressed …
    encoding    TEXT,
    segments    BIGINT,
    error       TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX messages_provider ON messages(channel, provider_id) WHERE provider_id IS NOT NULL;
CREATE INDEX messages_client ON messages(client_id, id);
CREATE INDEX messages_outbox ON messages(priority, id) WHERE status = 'queued';

CREATE TABLE answers (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id          TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    session_id         BIGINT NOT NULL,
    flow_id            TEXT NOT NULL,
    revision           TEXT NOT NULL,
    step_id            TEXT NOT NULL,
    record_key         TEXT,
    raw_text           TEXT NOT NULL,
    value              TEXT,             -- canonical: often, yes, 7
    label              TEXT,             -- as shown to the client, in their language
    score              BIGINT,
    status             TEXT NOT NULL,    -- answered | skipped | invalid
    locale             TEXT NOT NULL,
    time_point         TEXT,
    prompt_message_id  BIGINT,          -- the question it answers
    inbound_message_id BIGINT,          -- the message that carried it
    at                 BIGINT NOT NULL
);
CREATE INDEX answers_client ON answers(client_id, id);

CREATE TABLE scores (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id  TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    session_id BIGINT NOT NULL,
    flow_id    TEXT NOT NULL,
    revision   TEXT NOT NULL,
    instrument TEXT NOT NULL,
    time_point TEXT,
    total      BIGINT,
    category   TEXT,
    complete   BIGINT NOT NULL,          -- 1 when every item was answered
    items      TEXT NOT NULL,            -- JSON: step → item score
    at         BIGINT NOT NULL
);
CREATE INDEX scores_client ON scores(client_id, instrument, id);

-- The latest value of each record field (client.best_time, referral.barrier, …).
CREATE TABLE fields (
    client_id  TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    source     TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (client_id, key)
);

-- Flags and tasks for the navigator.
CREATE TABLE flags (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id   TEXT REFERENCES clients(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,          -- crisis, callback, barrier, no-response, message…
    urgency     TEXT NOT NULL,          -- urgent | normal
    note        TEXT,
    status      TEXT NOT NULL DEFAULT 'open',
    session_id  BIGINT,
    due_at      BIGINT,
    created_at  BIGINT NOT NULL,
    resolved_at BIGINT
);
CREATE INDEX flags_open ON flags(status, urgency, id);
CREATE INDEX flags_client ON flags(client_id, id);

-- Durable jobs: for now the timeout of the question a session waits on.
CREATE TABLE jobs (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id  TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    session_id BIGINT,
    kind       TEXT NOT NULL,
    step_id    TEXT,
    due_at     BIGINT NOT NULL,
    status     TEXT NOT NULL DEFAULT 'pending',  -- pending | done | cancelled
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (session_id, kind)
);
CREATE INDEX jobs_due ON jobs(due_at) WHERE status = 'pending';

-- Who viewed or changed which record, when (PHIPA). Never holds message bodies.
CREATE TABLE audit_log (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at        BIGINT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    client_id TEXT,
    detail    TEXT
);
CREATE INDEX audit_log_client ON audit_log(client_id, id);
