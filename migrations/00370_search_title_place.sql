-- +goose Up
-- A search near a point by relevance ranks the titles first (see
-- "Keeping it fast" in docs/search.md): it reads the offerings of a few
-- titles within a distance, which this index answers with a rectangle of
-- latitudes and longitudes per title, without reading the others.
CREATE INDEX offerings_title_place_idx ON offerings (title_folded, lat, lon) WHERE status = 'active';

-- +goose Down
DROP INDEX offerings_title_place_idx;
