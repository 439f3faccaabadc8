-- 療養・就労両立支援指導 sessions a hospital records on a case (billing records of B001-9),
-- and each hospital's notified facility standards. Both are append-only: a correction or a
-- 取消 of a session is a new version, a change of standards a new notification. `details`
-- holds the domain's GuidanceDetails as serde_json text; the columns beside it are copies for
-- lists and summaries. `session_date` is the calendar date as ISO text.
CREATE TABLE guidance_sessions (
    id              BLOB NOT NULL,
    version         INTEGER NOT NULL CHECK (version >= 1),
    case_id         BLOB NOT NULL REFERENCES cases (id),
    institution_id  BLOB NOT NULL REFERENCES organisations (id),
    patient_id      BLOB NOT NULL REFERENCES users (id),
    physician_id    BLOB NOT NULL REFERENCES users (id),
    session_date    TEXT NOT NULL,
    details         TEXT NOT NULL,
    cancel_reason   TEXT,
    recorded_by     BLOB NOT NULL REFERENCES users (id),
    recorded_role   TEXT NOT NULL,
    recorded_at     INTEGER NOT NULL,
    PRIMARY KEY (id, version)
) STRICT;
CREATE INDEX guidance_sessions_case ON guidance_sessions (case_id, session_date);
-- A patient's history at one institution, and an institution's month.
CREATE INDEX guidance_sessions_patient ON guidance_sessions (institution_id, patient_id);
CREATE INDEX guidance_sessions_month ON guidance_sessions (institution_id, session_date);

CREATE TABLE facility_standards (
    id                   BLOB PRIMARY KEY,
    institution_id       BLOB NOT NULL REFERENCES organisations (id),
    effective_from       TEXT NOT NULL,
    consultation_support INTEGER NOT NULL CHECK (consultation_support IN (0, 1)),
    online               INTEGER NOT NULL CHECK (online IN (0, 1)),
    recorded_by          BLOB NOT NULL REFERENCES users (id),
    recorded_at          INTEGER NOT NULL
) STRICT;
CREATE INDEX facility_standards_institution ON facility_standards (institution_id, effective_from);

-- Billing records must not silently change.
CREATE TRIGGER guidance_sessions_no_update BEFORE UPDATE ON guidance_sessions
BEGIN
    SELECT RAISE(ABORT, 'guidance sessions are append-only');
END;
CREATE TRIGGER guidance_sessions_no_delete BEFORE DELETE ON guidance_sessions
BEGIN
    SELECT RAISE(ABORT, 'guidance sessions are append-only');
END;
CREATE TRIGGER facility_standards_no_update BEFORE UPDATE ON facility_standards
BEGIN
    SELECT RAISE(ABORT, 'facility standards are append-only');
END;
CREATE TRIGGER facility_standards_no_delete BEFORE DELETE ON facility_standards
BEGIN
    SELECT RAISE(ABORT, 'facility standards are append-only');
END;
