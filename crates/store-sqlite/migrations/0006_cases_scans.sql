-- Scans of paper forms the worker uploads, kept exactly as uploaded: the original each
-- transcription was made from. `form` and `format` are stable codes.
CREATE TABLE attachments (
    id          BLOB PRIMARY KEY,
    case_id     BLOB NOT NULL REFERENCES cases (id),
    form        TEXT NOT NULL,
    format      TEXT NOT NULL,
    file_name   TEXT NOT NULL,
    size        INTEGER NOT NULL,
    sha256      TEXT NOT NULL,
    content     BLOB NOT NULL,
    uploaded_by BLOB NOT NULL REFERENCES users (id),
    uploaded_at INTEGER NOT NULL
) STRICT;
CREATE INDEX attachments_case ON attachments (case_id, uploaded_at);

-- Append-only: an original is never replaced or removed.
CREATE TRIGGER attachments_no_update BEFORE UPDATE ON attachments
BEGIN
    SELECT RAISE(ABORT, 'attachments is append-only');
END;

CREATE TRIGGER attachments_no_delete BEFORE DELETE ON attachments
BEGIN
    SELECT RAISE(ABORT, 'attachments is append-only');
END;
