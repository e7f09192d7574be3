-- Many processes on one database act as one (DESIGN §3).

-- The pace of each sender (a Twilio number or messaging service, a Telegram bot), shared by
-- every process that sends through it: when, in microseconds since the epoch, the sender is
-- next free. Each send reserves its segments' share of the sender's rate here. Owned by the
-- sender it names.
CREATE TABLE sender_pace (
    sender       TEXT PRIMARY KEY,
    next_free_us BIGINT NOT NULL
);

-- Work only one process may do at a time (long polling one Telegram bot): the process holding
-- it, until when. A holder renews its lease; another takes it over once it lapses. Owned by
-- the work it names.
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- Failed sign-ins, counted by every process alike for the lock-out. Owned by the staff member
-- whose user name was tried (none, for a name no account has); kept for the lock-out's window.
CREATE TABLE sign_in_failures (
    username  TEXT NOT NULL,
    failed_at BIGINT NOT NULL
);
CREATE INDEX sign_in_failures_by_name ON sign_in_failures(username, failed_at);
