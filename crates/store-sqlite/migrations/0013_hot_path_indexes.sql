-- Indexes for the statements that used to read a whole table on the hot path (or in the
-- periodic sweep), now that every read asks one question (see the plan tests,
-- tests/plans.rs, and ryoritsu_app::conformance::plans).

-- The sweep's deletions of expired sessions, old sign-in failures and old idempotency
-- records: one range each instead of a walk through the table.
CREATE INDEX sessions_last_seen ON sessions (last_seen_at);
CREATE INDEX sessions_created ON sessions (created_at);
CREATE INDEX login_failures_at ON login_failures (at);
CREATE INDEX idempotency_created ON idempotency (created_at);

-- A demo server's sign-in page lists the demo accounts alone.
CREATE INDEX users_demo ON users (login) WHERE demo;

-- Overdue reminders look at the open tasks only, by due date.
CREATE INDEX tasks_open_due ON tasks (due) WHERE closed_at IS NULL;

-- A worker's 開示 export lists the guidance sessions about them at every institution.
CREATE INDEX guidance_sessions_by_patient ON guidance_sessions (patient_id, session_date);

-- An organisation's members, page by page in the order they joined.
CREATE INDEX memberships_by_organisation ON memberships (organisation_id, created_at, id);
DROP INDEX memberships_organisation;
-- The staff of one role (the HR officers to notify, the 主治医 to choose from).
CREATE INDEX memberships_by_role ON memberships (organisation_id, role, created_at);

-- An organisation's newest invitations.
CREATE INDEX invitations_by_organisation ON invitations (organisation_id, created_at, id);
DROP INDEX invitations_organisation;
