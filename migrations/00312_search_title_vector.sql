-- +goose Up
-- The title's own words, indexed: a search across the whole country first
-- ranks the offerings whose title matches, and reads the rest only when
-- they could rank among the first (see internal/catalog/search_sql.go).
ALTER TABLE offerings ADD COLUMN title_vector tsvector GENERATED ALWAYS AS (to_tsvector('reciproca_it', title)) STORED;
CREATE INDEX offerings_title_vector_idx ON offerings USING gin (title_vector) WHERE status = 'active';

-- +goose Down
ALTER TABLE offerings DROP COLUMN title_vector;
