-- Full-text search for staff, and the reading (フリガナ) of a person's name.
--
-- The reading is entered with the name and kept with the user; it is optional and holds kana
-- only (checked by the application after NFKC).
ALTER TABLE users ADD COLUMN name_reading TEXT;

-- The search index: derived data, rebuilt from the records by `ryoritsu search reindex` and
-- after a restore, never backed up. A case has one row for its worker's name and reading
-- (source 'name', which every case has), one for its employer and workplace ('workplace';
-- both of category 'case'), one per document revision and one per consultation note.
-- The text is cut into words by the application (ICU word segmentation, NFKC, lowercase,
-- katakana to hiragana); FTS5's unicode61 only splits the stored words at the spaces.
-- scope_key is '<case id>:<category>' and own_key '<case id>:author:<user id>': a search
-- passes the keys the principal may read, decided by the access policy, so that nothing
-- outside them is ever matched, counted or shown.
CREATE TABLE search_rows (
    id        INTEGER PRIMARY KEY,
    case_id   BLOB NOT NULL REFERENCES cases (id),
    source    TEXT NOT NULL,
    category  TEXT NOT NULL,
    scope_key TEXT NOT NULL,
    own_key   TEXT,
    weight    INTEGER NOT NULL,
    body      TEXT NOT NULL
) STRICT;
CREATE INDEX search_rows_case ON search_rows (case_id);
CREATE INDEX search_rows_scope ON search_rows (scope_key);

-- rowid = search_rows.id. Diacritics are kept: dakuten are not accents.
CREATE VIRTUAL TABLE search_words USING fts5 (
    words,
    tokenize = 'unicode61 remove_diacritics 0'
);
