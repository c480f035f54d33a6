-- +goose Up
-- Where a company's people work: each site has an address and the
-- municipality (ISTAT code of the catalogue's places) it is in, which gives
-- its coordinates; each employee may pick theirs. The catalogue's "near"
-- starts from the employee's site, and the km0 figures of later reports
-- count from it. place_code has no foreign key: places is created by the
-- catalogue's migrations, numbered after these; the application only
-- stores codes it resolved from places.
CREATE TABLE company_sites (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organisation_id  uuid NOT NULL REFERENCES organisations(id),
    name             text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    address          text NOT NULL DEFAULT '' CHECK (length(address) <= 300),
    place_code       text NOT NULL CHECK (place_code ~ '^[0-9]{6}$'),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
-- One name per company, as people tell their sites apart (and a CSV's
-- "sede" column names one).
CREATE UNIQUE INDEX company_sites_name_idx ON company_sites (organisation_id, lower(btrim(name)));

ALTER TABLE users ADD COLUMN site_id uuid REFERENCES company_sites(id) ON DELETE SET NULL;
CREATE INDEX users_site_idx ON users (site_id) WHERE site_id IS NOT NULL;

-- +goose Down
ALTER TABLE users DROP COLUMN site_id;
DROP TABLE company_sites;
