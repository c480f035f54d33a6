-- +goose Up
-- The catalogue: providers (erogatori), their offerings, photos, and the
-- municipalities people search near.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS cube;
CREATE EXTENSION IF NOT EXISTS earthdistance;
CREATE EXTENSION IF NOT EXISTS btree_gist;

-- Italian full-text search that ignores accents: "attivita" finds "attività".
CREATE TEXT SEARCH CONFIGURATION reciproca_it (COPY = pg_catalog.italian);
ALTER TEXT SEARCH CONFIGURATION reciproca_it
    ALTER MAPPING FOR hword, hword_part, word WITH unaccent, italian_stem;

-- catalog_fold is lower(unaccent(s)), declared immutable so that it can feed
-- generated columns and trigram indexes (the dictionary is pinned).
-- +goose StatementBegin
CREATE FUNCTION catalog_fold(s text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN lower(public.unaccent('public.unaccent'::regdictionary, s));
-- +goose StatementEnd

-- Every Italian municipality with its postcodes and the coordinates of its
-- seat (data in 00301_places.sql).
CREATE TABLE places (
    code           text PRIMARY KEY,             -- ISTAT code, e.g. 097042
    name           text NOT NULL,
    province_code  text NOT NULL,                -- sigla, e.g. LC
    province_name  text NOT NULL,
    region_name    text NOT NULL,
    postcodes      text[] NOT NULL,
    lat            double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon            double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
    population     integer NOT NULL DEFAULT 0,
    name_folded    text GENERATED ALWAYS AS (catalog_fold(name)) STORED
);
CREATE INDEX places_name_trgm_idx ON places USING gin (name_folded gin_trgm_ops);
CREATE INDEX places_postcodes_idx ON places USING gin (postcodes);

-- The fixed taxonomy; each category maps to its Italian tax bucket (TUIR
-- art. 51). Labels live in the application (Italian and English).
CREATE TABLE catalog_categories (
    code        text PRIMARY KEY,
    tax_bucket  text NOT NULL CHECK (tax_bucket IN ('art51_c2_f', 'art51_c2_f_bis', 'art51_c2_f_ter',
                                                    'art51_c2_d_bis', 'art51_c3_fringe')),
    position    integer NOT NULL
);
INSERT INTO catalog_categories (code, tax_bucket, position) VALUES
    ('childcare',             'art51_c2_f_bis',  10),
    ('after_school',          'art51_c2_f_bis',  20),
    ('summer_camp',           'art51_c2_f_bis',  30),
    ('elder_care',            'art51_c2_f_ter',  40),
    ('physiotherapy',         'art51_c2_f',      50),
    ('psychological_support', 'art51_c2_f',      60),
    ('courses',               'art51_c2_f',      70),
    ('sport',                 'art51_c2_f',      80),
    ('culture',               'art51_c2_f',      90),
    ('concierge',             'art51_c3_fringe', 100),
    ('laundry',               'art51_c3_fringe', 110),
    ('transport_pass',        'art51_c2_d_bis',  120);

-- A provider is the catalogue profile of an organisation of kind provider.
-- Nothing of a provider is visible until a platform admin approves it.
CREATE TABLE providers (
    organisation_id   uuid PRIMARY KEY REFERENCES organisations(id),
    legal_name        text NOT NULL CHECK (length(btrim(legal_name)) > 0),
    legal_form        text NOT NULL CHECK (legal_form IN ('social_cooperative', 'association', 'business')),
    vat_number        text CHECK (vat_number ~ '^[0-9]{11}$'),
    fiscal_code       text NOT NULL CHECK (fiscal_code ~ '^([0-9]{11}|[A-Z0-9]{16})$'),
    address           text NOT NULL DEFAULT '',
    place_code        text NOT NULL REFERENCES places(code),
    email             text NOT NULL DEFAULT '',
    phone             text NOT NULL DEFAULT '',
    website           text NOT NULL DEFAULT '',
    description       text NOT NULL DEFAULT '',
    logo_photo_id     uuid,
    fund_pledge_bps   integer NOT NULL DEFAULT 0 CHECK (fund_pledge_bps BETWEEN 0 AND 5000),
    status            text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
    status_note       text NOT NULL DEFAULT '',
    reviewed_by       uuid REFERENCES users(id),
    reviewed_at       timestamptz,
    stripe_account_id        text UNIQUE,
    stripe_details_submitted boolean NOT NULL DEFAULT false,
    stripe_charges_enabled   boolean NOT NULL DEFAULT false,
    stripe_payouts_enabled   boolean NOT NULL DEFAULT false,
    stripe_updated_at        timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX providers_vat_idx ON providers (vat_number) WHERE vat_number IS NOT NULL;
CREATE INDEX providers_status_idx ON providers (status, created_at);

-- Photos are stored in the database, already resized (see catalog/photo.go):
-- app servers stay stateless and backups hold everything.
CREATE TABLE catalog_photos (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organisation_id  uuid NOT NULL REFERENCES providers(organisation_id),
    content_type     text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png')),
    width            integer NOT NULL CHECK (width > 0),
    height           integer NOT NULL CHECK (height > 0),
    data             bytea NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX catalog_photos_org_idx ON catalog_photos (organisation_id);
ALTER TABLE providers ADD CONSTRAINT providers_logo_fk FOREIGN KEY (logo_photo_id) REFERENCES catalog_photos(id);

CREATE TABLE offerings (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    provider_id        uuid NOT NULL REFERENCES providers(organisation_id),
    title              text NOT NULL CHECK (length(btrim(title)) BETWEEN 3 AND 120),
    description        text NOT NULL DEFAULT '',
    category           text NOT NULL REFERENCES catalog_categories(code),
    keywords           text NOT NULL DEFAULT '',   -- category label and synonyms, set by the application
    price_cents        bigint NOT NULL CHECK (price_cents > 0),
    unit               text NOT NULL CHECK (unit IN ('hour', 'session', 'day', 'week', 'month', 'year', 'course', 'item')),
    address            text NOT NULL DEFAULT '',
    place_code         text NOT NULL REFERENCES places(code),
    lat                double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon                double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
    service_radius_km  integer NOT NULL DEFAULT 0 CHECK (service_radius_km BETWEEN 0 AND 100),
    availability       text NOT NULL DEFAULT 'on_request' CHECK (availability IN ('on_request', 'slots')),
    status             text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused')),
    inclusion_label    text CHECK (inclusion_label IN ('social_cooperative', 'fund_programme')),
    photo_id           uuid REFERENCES catalog_photos(id),
    idempotency_key    text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    title_folded       text GENERATED ALWAYS AS (catalog_fold(title)) STORED,
    search_vector      tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('reciproca_it', title), 'A') ||
        setweight(to_tsvector('reciproca_it', keywords), 'B') ||
        setweight(to_tsvector('reciproca_it', description), 'C')) STORED,
    geo                earth GENERATED ALWAYS AS (ll_to_earth(lat, lon)) STORED
);
CREATE UNIQUE INDEX offerings_idempotency_idx ON offerings (provider_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX offerings_provider_idx ON offerings (provider_id, created_at);
CREATE INDEX offerings_search_idx ON offerings USING gin (search_vector) WHERE status = 'active';
CREATE INDEX offerings_title_trgm_idx ON offerings USING gin (title_folded gin_trgm_ops) WHERE status = 'active';
-- Searches near a point: one GiST index on the point, the category, the
-- words and the title's trigrams, so that "babysitter near Lecco" (or the
-- typo fallback "babysiter near Lecco") is answered inside the index and
-- only matching rows are read from the table; separate indexes made the
-- planner read every offering in the area (see docs/benchmarks.md).
CREATE INDEX offerings_near_idx ON offerings USING gist (geo, category, search_vector, title_folded gist_trgm_ops)
    WHERE status = 'active';
CREATE INDEX offerings_category_price_idx ON offerings (category, price_cents) WHERE status = 'active';

-- Time slots with a capacity, for offerings whose availability is 'slots'.
CREATE TABLE offering_slots (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    offering_id  uuid NOT NULL REFERENCES offerings(id) ON DELETE CASCADE,
    starts_at    timestamptz NOT NULL,
    ends_at      timestamptz NOT NULL,
    capacity     integer NOT NULL CHECK (capacity > 0),
    CHECK (ends_at > starts_at)
);
CREATE INDEX offering_slots_offering_idx ON offering_slots (offering_id, starts_at);

-- +goose Down
DROP TABLE offering_slots;
DROP TABLE offerings;
ALTER TABLE providers DROP CONSTRAINT providers_logo_fk;
DROP TABLE catalog_photos;
DROP TABLE providers;
DROP TABLE catalog_categories;
DROP TABLE places;
DROP FUNCTION catalog_fold(text);
DROP TEXT SEARCH CONFIGURATION reciproca_it;
