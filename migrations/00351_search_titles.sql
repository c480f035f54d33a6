-- +goose Up
-- The catalogue's distinct titles, so that a search across the whole
-- country ranks titles before it reads offerings (see "Keeping it fast"
-- in docs/search.md). A common phrase's words are in the titles of
-- thousands of offerings but of a few dozen distinct titles; when every
-- word of a search is in a title, all its offerings score the same, and
-- the first few of each title (by id) are all a page needs.
CREATE TABLE catalog_titles (
    title_folded  text PRIMARY KEY,
    title_vector  tsvector NOT NULL,
    -- offerings with this folded title have titles whose words differ (a
    -- hyphen, say): no search takes the title's words as known.
    mixed         boolean NOT NULL DEFAULT false
);
CREATE INDEX catalog_titles_vector_idx ON catalog_titles USING gin (title_vector);
CREATE INDEX catalog_titles_mixed_idx ON catalog_titles (title_folded) WHERE mixed;

-- For the other titles, what bounds the score of any of their offerings
-- without reading them: each word found in the provider's name (place
-- 0.6) or the description (0.4) of any offering of the title, at its best.
-- Rows only grow or rise (an offering that changes or goes takes nothing
-- away), so a bound may be loose — which costs speed, never a result —
-- but never too low.
CREATE TABLE catalog_title_words (
    title_folded  text NOT NULL,
    lexeme        text NOT NULL,
    place         float8 NOT NULL,
    PRIMARY KEY (title_folded, lexeme)
);

-- A title's offerings in order of id: the first of a title that holds
-- every word of a search are read straight from here.
CREATE INDEX offerings_title_idx ON offerings (title_folded, id) WHERE status = 'active';

-- catalog_add_titles adds the titles and words of offerings (their folded
-- titles, title words and documents, in step) in key order: concurrent
-- writers lock rows in the same order, so they wait for each other rather
-- than deadlock. A row is rewritten only when it learns something.
-- +goose StatementBegin
CREATE FUNCTION catalog_add_titles(titles text[], title_vectors tsvector[], documents tsvector[]) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO catalog_titles AS t (title_folded, title_vector, mixed)
    SELECT title_folded, (array_agg(title_vector))[1], count(DISTINCT title_vector) > 1
      FROM unnest(titles, title_vectors) AS n (title_folded, title_vector)
     GROUP BY title_folded ORDER BY title_folded
        ON CONFLICT (title_folded) DO UPDATE SET mixed = true
     WHERE NOT t.mixed AND (EXCLUDED.mixed OR t.title_vector <> EXCLUDED.title_vector);
    INSERT INTO catalog_title_words AS t (title_folded, lexeme, place)
    SELECT n.title_folded, l.lexeme, max(CASE WHEN 'B' = ANY (l.weights) THEN 0.6 ELSE 0.4 END)
      FROM unnest(titles, documents) AS n (title_folded, document), unnest(n.document) l
     WHERE l.weights && '{B,C}'
     GROUP BY n.title_folded, l.lexeme ORDER BY n.title_folded, l.lexeme
        ON CONFLICT (title_folded, lexeme) DO UPDATE SET place = EXCLUDED.place WHERE t.place < EXCLUDED.place;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION catalog_collect_titles() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM catalog_add_titles(array_agg(title_folded), array_agg(title_vector), array_agg(search_vector))
           FROM new_rows;
    ELSE -- only documents that changed
        PERFORM catalog_add_titles(array_agg(n.title_folded), array_agg(n.title_vector), array_agg(n.search_vector))
           FROM new_rows n JOIN old_rows o USING (id)
          WHERE n.search_vector IS DISTINCT FROM o.search_vector OR n.title_folded IS DISTINCT FROM o.title_folded;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER offerings_titles_insert AFTER INSERT ON offerings REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_collect_titles();
CREATE TRIGGER offerings_titles_update AFTER UPDATE ON offerings REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_collect_titles();

-- The offerings already there.
SELECT catalog_add_titles(array_agg(title_folded), array_agg(title_vector), array_agg(search_vector)) FROM offerings;

-- +goose Down
DROP TRIGGER offerings_titles_insert ON offerings;
DROP TRIGGER offerings_titles_update ON offerings;
DROP FUNCTION catalog_collect_titles();
DROP FUNCTION catalog_add_titles(text[], tsvector[], tsvector[]);
DROP INDEX offerings_title_idx;
DROP TABLE catalog_title_words;
DROP TABLE catalog_titles;
