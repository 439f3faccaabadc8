-- Search rows are scoped by the access index (case_grants, migration 0012) instead of keys
-- written into each row: a row names its category (matched against the index's scopes)
-- and, for what a person wrote, its author. Rows are replaced one source at a time
-- (a document saved, a note added), found by (case_id, source).
ALTER TABLE search_rows ADD COLUMN author uuid;
UPDATE search_rows
    SET author = substr(own_key, position(':author:' in own_key) + 8)::uuid
    WHERE own_key IS NOT NULL;
DROP INDEX search_rows_scope;
DROP INDEX search_rows_case;
ALTER TABLE search_rows DROP COLUMN scope_key;
ALTER TABLE search_rows DROP COLUMN own_key;
CREATE INDEX search_rows_case_source ON search_rows (case_id, source);
