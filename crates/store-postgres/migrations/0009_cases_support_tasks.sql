-- Coordinators' own tasks on a case (支援タスク): what a coordinator has to do for the worker,
-- by a date. created_role is the role's stable code, as the writer acted in it. A task is
-- written once and later marked done once.
CREATE TABLE support_tasks (
    id              uuid PRIMARY KEY,
    case_id         uuid NOT NULL REFERENCES cases (id),
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    created_by      uuid NOT NULL REFERENCES users (id),
    created_role    text COLLATE "C" NOT NULL,
    title           text COLLATE "C" NOT NULL,
    due             date NOT NULL,
    note            text COLLATE "C",
    created_at      timestamptz NOT NULL,
    done_at         timestamptz,
    done_by         uuid REFERENCES users (id),
    version         bigint NOT NULL,
    CHECK ((done_at IS NULL) = (done_by IS NULL))
);
-- A case's tasks by due date.
CREATE INDEX support_tasks_case ON support_tasks (case_id, due);
-- The open tasks of an organisation, and of a writer, for their home pages.
CREATE INDEX support_tasks_organisation ON support_tasks (organisation_id, done_at);
CREATE INDEX support_tasks_created_by ON support_tasks (created_by, done_at);

-- What was written, by whom and when, is never rewritten or removed; marking done fills the
-- done columns once. TRUNCATE bypasses row triggers, so a statement trigger refuses it.
CREATE FUNCTION support_tasks_kept() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.done_at IS NULL
            AND (NEW.id, NEW.case_id, NEW.organisation_id, NEW.created_by, NEW.created_role,
                 NEW.title, NEW.due, NEW.note, NEW.created_at)
                IS NOT DISTINCT FROM
                (OLD.id, OLD.case_id, OLD.organisation_id, OLD.created_by, OLD.created_role,
                 OLD.title, OLD.due, OLD.note, OLD.created_at)
        THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'a support task keeps what was written and is marked done once'
        USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER support_tasks_done_once BEFORE UPDATE ON support_tasks
    FOR EACH ROW EXECUTE FUNCTION support_tasks_kept();
CREATE TRIGGER support_tasks_no_delete BEFORE DELETE ON support_tasks
    FOR EACH ROW EXECUTE FUNCTION support_tasks_kept();
CREATE TRIGGER support_tasks_no_truncate BEFORE TRUNCATE ON support_tasks
    FOR EACH STATEMENT EXECUTE FUNCTION support_tasks_kept();
