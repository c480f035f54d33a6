-- +goose Up
-- Search that understands how employees ask (see internal/catalog/search.go).
--
-- 1. The search document of an offering now also holds its provider's name
--    and description and the name of its town, so it can no longer be a
--    generated column: triggers keep it current when the offering or its
--    provider changes. Weights: A title; B provider name; C description;
--    D the category's words, the provider's description and the town.
-- 2. catalog_lexemes is the vocabulary of every document with the number
--    of offerings using each word (after stemming): it corrects typos,
--    splits compound words and weighs rare words above common ones.
-- 3. catalog_synonyms (00311) maps what people say to the words offerings use.
CREATE EXTENSION IF NOT EXISTS fuzzystrmatch;

-- +goose StatementBegin
CREATE FUNCTION catalog_document(title text, keywords text, description text, provider_name text,
                                 provider_description text, place_name text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN setweight(to_tsvector('reciproca_it', coalesce(title, '')), 'A') ||
       setweight(to_tsvector('reciproca_it', coalesce(provider_name, '')), 'B') ||
       setweight(to_tsvector('reciproca_it', coalesce(description, '')), 'C') ||
       setweight(to_tsvector('reciproca_it', coalesce(keywords, '') || ' ' || coalesce(provider_description, '')
                                             || ' ' || coalesce(place_name, '')), 'D');
-- +goose StatementEnd

ALTER TABLE offerings ALTER COLUMN search_vector DROP EXPRESSION;

-- +goose StatementBegin
CREATE FUNCTION catalog_offering_document() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT catalog_document(NEW.title, NEW.keywords, NEW.description, pr.legal_name, pr.description, pl.name)
      INTO NEW.search_vector
      FROM providers pr, places pl
     WHERE pr.organisation_id = NEW.provider_id AND pl.code = NEW.place_code;
    RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER offerings_document BEFORE INSERT OR UPDATE OF title, keywords, description, provider_id, place_code
    ON offerings FOR EACH ROW EXECUTE FUNCTION catalog_offering_document();

-- A provider's new name or description reaches its offerings' documents.
-- +goose StatementBegin
CREATE FUNCTION catalog_provider_document() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.legal_name IS DISTINCT FROM OLD.legal_name OR NEW.description IS DISTINCT FROM OLD.description THEN
        UPDATE offerings SET provider_id = provider_id WHERE provider_id = NEW.organisation_id;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER providers_document AFTER UPDATE OF legal_name, description ON providers
    FOR EACH ROW EXECUTE FUNCTION catalog_provider_document();

UPDATE offerings SET provider_id = provider_id;

CREATE TABLE catalog_lexemes (
    lexeme  text PRIMARY KEY,
    ndoc    integer NOT NULL DEFAULT 0   -- offerings whose document holds it (paused ones too)
);
CREATE INDEX catalog_lexemes_trgm_idx ON catalog_lexemes USING gin (lexeme gin_trgm_ops);

-- catalog_count_lexemes applies the change of one statement on offerings
-- to the counts, in lexeme order (concurrent writers lock rows in the same
-- order, so they wait for each other rather than deadlock). Words are
-- never deleted: a count of 0 means "known, but in no offering".
-- +goose StatementBegin
CREATE FUNCTION catalog_count_lexemes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO catalog_lexemes AS c (lexeme, ndoc)
        SELECT l.lexeme, count(*) FROM new_rows n, unnest(n.search_vector) l GROUP BY l.lexeme ORDER BY l.lexeme
        ON CONFLICT (lexeme) DO UPDATE SET ndoc = c.ndoc + EXCLUDED.ndoc;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE catalog_lexemes c SET ndoc = c.ndoc - d.n
          FROM (SELECT l.lexeme, count(*) AS n FROM old_rows o, unnest(o.search_vector) l GROUP BY l.lexeme) d
         WHERE c.lexeme = d.lexeme;
    ELSE
        INSERT INTO catalog_lexemes AS c (lexeme, ndoc)
        SELECT lexeme, sum(n) FROM (
            SELECT l.lexeme, 1 AS n FROM new_rows n JOIN old_rows o USING (id), unnest(n.search_vector) l
             WHERE n.search_vector IS DISTINCT FROM o.search_vector
            UNION ALL
            SELECT l.lexeme, -1 FROM new_rows n JOIN old_rows o USING (id), unnest(o.search_vector) l
             WHERE n.search_vector IS DISTINCT FROM o.search_vector) d
        GROUP BY lexeme HAVING sum(n) <> 0 ORDER BY lexeme
        ON CONFLICT (lexeme) DO UPDATE SET ndoc = c.ndoc + EXCLUDED.ndoc;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER offerings_lexemes_insert AFTER INSERT ON offerings REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_count_lexemes();
CREATE TRIGGER offerings_lexemes_update AFTER UPDATE ON offerings REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_count_lexemes();
CREATE TRIGGER offerings_lexemes_delete AFTER DELETE ON offerings REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_count_lexemes();

INSERT INTO catalog_lexemes (lexeme, ndoc)
SELECT l.lexeme, count(*) FROM offerings o, unnest(o.search_vector) l GROUP BY l.lexeme;

-- The title trigram fallback is replaced by typo correction against the
-- vocabulary: the near-search index no longer needs the title's trigrams.
DROP INDEX offerings_title_trgm_idx;
DROP INDEX offerings_near_idx;
CREATE INDEX offerings_near_idx ON offerings USING gist (geo, category, search_vector) WHERE status = 'active';

-- +goose Down
DROP TRIGGER offerings_lexemes_insert ON offerings;
DROP TRIGGER offerings_lexemes_update ON offerings;
DROP TRIGGER offerings_lexemes_delete ON offerings;
DROP FUNCTION catalog_count_lexemes();
DROP TABLE catalog_lexemes;
DROP TRIGGER providers_document ON providers;
DROP FUNCTION catalog_provider_document();
DROP TRIGGER offerings_document ON offerings;
DROP FUNCTION catalog_offering_document();
ALTER TABLE offerings DROP COLUMN search_vector; -- and the indexes on it
ALTER TABLE offerings ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('reciproca_it', title), 'A') ||
        setweight(to_tsvector('reciproca_it', keywords), 'B') ||
        setweight(to_tsvector('reciproca_it', description), 'C')) STORED;
CREATE INDEX offerings_search_idx ON offerings USING gin (search_vector) WHERE status = 'active';
CREATE INDEX offerings_title_trgm_idx ON offerings USING gin (title_folded gin_trgm_ops) WHERE status = 'active';
CREATE INDEX offerings_near_idx ON offerings USING gist (geo, category, search_vector, title_folded gist_trgm_ops)
    WHERE status = 'active';
DROP FUNCTION catalog_document(text, text, text, text, text, text);
