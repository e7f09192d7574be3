-- The navigator's web (DESIGN §1, §7): staff accounts and their sessions, one-time set-up links,
-- API tokens, and who each client is assigned to. Secrets are stored only as SHA-256 hashes
-- (tokens) or argon2 hashes (passwords).

CREATE TABLE staff (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL,              -- admin | navigator
    password_hash TEXT,                       -- argon2id; NULL until set through a set-up link
    language      TEXT NOT NULL DEFAULT 'en', -- the UI language
    active        BIGINT NOT NULL DEFAULT 1,
    created_at    BIGINT NOT NULL
);

CREATE TABLE staff_sessions (
    token_hash TEXT PRIMARY KEY,
    staff_id   BIGINT NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
    csrf       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen  BIGINT NOT NULL
);
CREATE INDEX staff_sessions_staff ON staff_sessions(staff_id);

-- A one-time link: the first admin's (staff_id NULL), or a new staff member's own.
CREATE TABLE setup_links (
    token_hash TEXT PRIMARY KEY,
    staff_id   BIGINT REFERENCES staff(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);

CREATE TABLE api_tokens (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    scope        TEXT NOT NULL,               -- read | write
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);

-- Deployment-wide values made once (the key of the export's pseudonymous ids).
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

ALTER TABLE clients ADD COLUMN display_name TEXT;
ALTER TABLE clients ADD COLUMN navigator_id BIGINT REFERENCES staff(id) ON DELETE SET NULL;
CREATE INDEX clients_navigator ON clients(navigator_id);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_actor ON audit_log(actor, id);
