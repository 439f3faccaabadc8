-- The worker's access log reads the audit records of their cases.
CREATE INDEX audit_event_case ON audit_event (case_id, seq);
