-- Coordinators' own tasks on a case (支援タスク): what a coordinator has to do for the worker,
-- by a date. `created_role` is the role's stable code, as the writer acted in it; `due` is
-- the calendar date as ISO text. A task is written once and later marked done once.
CREATE TABLE support_tasks (
    id              BLOB PRIMARY KEY,
    case_id         BLOB NOT NULL REFERENCES cases (id),
    organisation_id BLOB NOT NULL REFERENCES organisations (id),
    created_by      BLOB NOT NULL REFERENCES users (id),
    created_role    TEXT NOT NULL,
    title           TEXT NOT NULL,
    due             TEXT NOT NULL,
    note            TEXT,
    created_at      INTEGER NOT NULL,
    done_at         INTEGER,
    done_by         BLOB REFERENCES users (id),
    version         INTEGER NOT NULL,
    CHECK ((done_at IS NULL) = (done_by IS NULL))
) STRICT;
-- A case's tasks by due date.
CREATE INDEX support_tasks_case ON support_tasks (case_id, due);
-- The open tasks of an organisation, and of a writer, for their home pages.
CREATE INDEX support_tasks_organisation ON support_tasks (organisation_id, done_at);
CREATE INDEX support_tasks_created_by ON support_tasks (created_by, done_at);

-- What was written, by whom and when, is never rewritten or removed; marking done fills the
-- done columns once.
CREATE TRIGGER support_tasks_no_delete BEFORE DELETE ON support_tasks
BEGIN
    SELECT RAISE(ABORT, 'support_tasks are kept');
END;

CREATE TRIGGER support_tasks_done_once BEFORE UPDATE ON support_tasks
WHEN OLD.done_at IS NOT NULL
    OR NEW.id IS NOT OLD.id
    OR NEW.case_id IS NOT OLD.case_id
    OR NEW.organisation_id IS NOT OLD.organisation_id
    OR NEW.created_by IS NOT OLD.created_by
    OR NEW.created_role IS NOT OLD.created_role
    OR NEW.title IS NOT OLD.title
    OR NEW.due IS NOT OLD.due
    OR NEW.note IS NOT OLD.note
    OR NEW.created_at IS NOT OLD.created_at
BEGIN
    SELECT RAISE(ABORT, 'a support task keeps what was written and is marked done once');
END;
