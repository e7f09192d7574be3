-- Programs and partners: a catalogue instead of a line of free text, so that a program's details
-- can be sent and its referrals counted together.

-- A community organisation that runs programs. Owned by the deployment (later: a centre).
CREATE TABLE partners (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL UNIQUE,
    contact    TEXT,
    notes      TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- A program in the catalogue. Owned by its partner; `code` is its stable short id.
CREATE TABLE programs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    code          TEXT NOT NULL UNIQUE,
    partner_id    INTEGER REFERENCES partners(id),
    location      TEXT,                          -- an address; NULL when only online
    online        INTEGER NOT NULL DEFAULT 0,
    schedule      TEXT,                          -- "Tue 10:00; Thu 14:00" weekly, or dates "2026-12-03 10:00"
    cost          TEXT NOT NULL DEFAULT 'free',  -- free | low-cost | fee-waivable
    transport     TEXT,
    accessibility TEXT,
    languages     TEXT NOT NULL DEFAULT '',      -- comma-separated language tags it runs in
    contact       TEXT,
    eligibility   TEXT,
    reasons       TEXT NOT NULL DEFAULT '',      -- comma-separated referral reasons it suits
    active        INTEGER NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

-- A program's name and description in one language. Owned by the program.
CREATE TABLE program_texts (
    program_id  INTEGER NOT NULL REFERENCES programs(id) ON DELETE CASCADE,
    language    TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (program_id, language)
);

-- A referral names a program of the catalogue, or none ("other": the free text in `program`,
-- which is what every referral made before the catalogue keeps).
ALTER TABLE referrals ADD COLUMN program_id INTEGER REFERENCES programs(id);
CREATE INDEX referrals_program ON referrals(program_id) WHERE program_id IS NOT NULL;

-- A referral that came from the EMR as a FHIR ServiceRequest: the resource as stored, and the
-- Task that tracks it has the same id. Owned by the referral (and so by its client).
CREATE TABLE service_requests (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    referral_id INTEGER NOT NULL REFERENCES referrals(id) ON DELETE CASCADE,
    client_id   TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    identifier  TEXT,                 -- the sender's own identifier (system|value), to take a retry once
    requester   TEXT,
    resource    TEXT NOT NULL,        -- the ServiceRequest as stored (JSON)
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX service_requests_identifier ON service_requests(identifier) WHERE identifier IS NOT NULL;
CREATE INDEX service_requests_referral ON service_requests(referral_id);

-- Word back to the referrer: a short summary written when the uptake changes or the referral
-- closes, in English and French. status: draft (waits for a navigator's review) | sent.
-- Owned by the referral.
CREATE TABLE referrer_summaries (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    referral_id INTEGER NOT NULL REFERENCES referrals(id) ON DELETE CASCADE,
    event       TEXT NOT NULL,        -- uptake | closed
    status      TEXT NOT NULL,
    text_en     TEXT NOT NULL,
    text_fr     TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    sent_at     INTEGER,
    sent_by     TEXT
);
CREATE INDEX referrer_summaries_referral ON referrer_summaries(referral_id, id);
