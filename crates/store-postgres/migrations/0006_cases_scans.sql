-- Scans of paper forms the worker uploads, kept exactly as uploaded: the original each
-- transcription was made from. form and format are stable codes.
CREATE TABLE attachments (
    id          uuid PRIMARY KEY,
    case_id     uuid NOT NULL REFERENCES cases (id),
    form        text COLLATE "C" NOT NULL,
    format      text COLLATE "C" NOT NULL,
    file_name   text NOT NULL,
    size        bigint NOT NULL,
    sha256      text COLLATE "C" NOT NULL,
    content     bytea NOT NULL,
    uploaded_by uuid NOT NULL REFERENCES users (id),
    uploaded_at timestamptz NOT NULL
);
CREATE INDEX attachments_case ON attachments (case_id, uploaded_at);

-- Append-only: an original is never replaced or removed. Row triggers refuse UPDATE and
-- DELETE; a statement trigger refuses TRUNCATE, which bypasses row triggers.
CREATE FUNCTION attachments_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'attachments is append-only' USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER attachments_no_update BEFORE UPDATE ON attachments
    FOR EACH ROW EXECUTE FUNCTION attachments_append_only();
CREATE TRIGGER attachments_no_delete BEFORE DELETE ON attachments
    FOR EACH ROW EXECUTE FUNCTION attachments_append_only();
CREATE TRIGGER attachments_no_truncate BEFORE TRUNCATE ON attachments
    FOR EACH STATEMENT EXECUTE FUNCTION attachments_append_only();
