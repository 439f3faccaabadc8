-- The outbox of e-mail notices. A notice is written in the transaction of the change that
-- calls for it and carries no health information: only a neutral subject, the recipient's
-- name, a due date and a link to the case. Rows are kept after sending (or giving up), so
-- what was sent, and what could not be, stays visible.
CREATE TABLE notice_outbox (
    id              BLOB PRIMARY KEY,
    kind            TEXT NOT NULL,
    recipient       BLOB NOT NULL REFERENCES users (id),
    address         TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    case_id         BLOB NOT NULL REFERENCES cases (id),
    task_id         BLOB REFERENCES tasks (id),
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    sent_at         INTEGER,
    last_error      TEXT
) STRICT;
-- What the sender picks up: unsent notices by when they are due.
CREATE INDEX notice_outbox_due ON notice_outbox (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
-- One reminder per overdue task and recipient.
CREATE UNIQUE INDEX notice_outbox_reminder ON notice_outbox (task_id, recipient)
    WHERE kind = 'overdue';
