-- 療養・就労両立支援指導 sessions a hospital records on a case (billing records of B001-9),
-- and each hospital's notified facility standards. Both are append-only: a correction or a
-- 取消 of a session is a new version, a change of standards a new notification. details
-- holds the domain's GuidanceDetails as serde_json text (not jsonb, as elsewhere); the
-- columns beside it are copies for lists and summaries.
CREATE TABLE guidance_sessions (
    id              uuid NOT NULL,
    version         bigint NOT NULL CHECK (version >= 1),
    case_id         uuid NOT NULL REFERENCES cases (id),
    institution_id  uuid NOT NULL REFERENCES organisations (id),
    patient_id      uuid NOT NULL REFERENCES users (id),
    physician_id    uuid NOT NULL REFERENCES users (id),
    session_date    date NOT NULL,
    details         text COLLATE "C" NOT NULL,
    cancel_reason   text COLLATE "C",
    recorded_by     uuid NOT NULL REFERENCES users (id),
    recorded_role   text COLLATE "C" NOT NULL,
    recorded_at     timestamptz NOT NULL,
    PRIMARY KEY (id, version)
);
CREATE INDEX guidance_sessions_case ON guidance_sessions (case_id, session_date);
-- A patient's history at one institution, and an institution's month.
CREATE INDEX guidance_sessions_patient ON guidance_sessions (institution_id, patient_id);
CREATE INDEX guidance_sessions_month ON guidance_sessions (institution_id, session_date);

CREATE TABLE facility_standards (
    id                   uuid PRIMARY KEY,
    institution_id       uuid NOT NULL REFERENCES organisations (id),
    effective_from       date NOT NULL,
    consultation_support boolean NOT NULL,
    online               boolean NOT NULL,
    recorded_by          uuid NOT NULL REFERENCES users (id),
    recorded_at          timestamptz NOT NULL
);
CREATE INDEX facility_standards_institution ON facility_standards (institution_id, effective_from);

-- Billing records must not silently change. TRUNCATE bypasses row triggers, so a statement
-- trigger refuses it.
CREATE FUNCTION guidance_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER guidance_sessions_no_change BEFORE UPDATE OR DELETE ON guidance_sessions
    FOR EACH ROW EXECUTE FUNCTION guidance_append_only();
CREATE TRIGGER guidance_sessions_no_truncate BEFORE TRUNCATE ON guidance_sessions
    FOR EACH STATEMENT EXECUTE FUNCTION guidance_append_only();
CREATE TRIGGER facility_standards_no_change BEFORE UPDATE OR DELETE ON facility_standards
    FOR EACH ROW EXECUTE FUNCTION guidance_append_only();
CREATE TRIGGER facility_standards_no_truncate BEFORE TRUNCATE ON facility_standards
    FOR EACH STATEMENT EXECUTE FUNCTION guidance_append_only();
