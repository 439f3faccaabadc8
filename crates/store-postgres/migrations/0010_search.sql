-- Full-text search for staff, and the reading (フリガナ) of a person's name.
--
-- The reading is entered with the name and kept with the user; it is optional and holds kana
-- only (checked by the application after NFKC).
ALTER TABLE users ADD COLUMN name_reading text COLLATE "C";

-- The search index: derived data, rebuilt from the records by `ryoritsu search reindex` and
-- after a restore, never backed up. A case has one row for its worker's name and reading
-- (source 'name', which every case has), one for its employer and workplace ('workplace';
-- both of category 'case'), one per document revision and one per consultation note.
-- The text is cut into words by the application (ICU word segmentation, NFKC, lowercase,
-- katakana to hiragana) and stored as a tsvector literal with positions, so PostgreSQL's
-- parser never re-cuts Japanese text. scope_key is '<case id>:<category>' and own_key
-- '<case id>:author:<user id>': a search passes the keys the principal may read, decided by
-- the access policy, so that nothing outside them is ever matched, counted or shown.
CREATE TABLE search_rows (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id   uuid NOT NULL REFERENCES cases (id),
    source    text COLLATE "C" NOT NULL,
    category  text COLLATE "C" NOT NULL,
    scope_key text COLLATE "C" NOT NULL,
    own_key   text COLLATE "C",
    weight    integer NOT NULL,
    body      text NOT NULL,
    words     tsvector NOT NULL
);
CREATE INDEX search_rows_case ON search_rows (case_id);
CREATE INDEX search_rows_scope ON search_rows (scope_key);
CREATE INDEX search_rows_words ON search_rows USING gin (words);
