-- +goose Up
-- The inclusion label ("Dà lavoro a persone dei percorsi di inclusione")
-- belongs to a provider, not to an offering, and a platform admin grants
-- it after checking the evidence, until a date (see
-- internal/catalog/label.go). The evidence is one of:
--   social_cooperative_b  registration in the Albo delle società
--                         cooperative, social co-operatives section,
--                         category B, with its number;
--   self_declaration      a self-declaration (DPR 445/2000) of how many
--                         people were hired from inclusion pathways, as
--                         counts only.
-- Nothing here names or describes a worker: that would be special-category
-- data (GDPR art. 9), so there is no column that could hold it.
CREATE TABLE inclusion_label_requests (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    provider_id      uuid NOT NULL REFERENCES providers(organisation_id),
    evidence         text CHECK (evidence IN ('social_cooperative_b', 'self_declaration')),
    albo_number      text CHECK (albo_number ~ '^A[0-9]{6}$'),
    inclusion_hires  integer CHECK (inclusion_hires BETWEEN 1 AND 100000),
    total_staff      integer CHECK (total_staff BETWEEN 1 AND 100000),
    -- legacy_label is the label the provider had put on its offerings
    -- before labels were reviewed (migrated here as pending, no evidence).
    legacy_label     text CHECK (legacy_label IN ('social_cooperative', 'fund_programme')),
    requested_by     uuid REFERENCES users(id),
    requested_at     timestamptz NOT NULL DEFAULT now(),
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
    valid_until      date,                     -- last day the label shows (Italian time)
    decision_note    text NOT NULL DEFAULT '', -- shown to the provider
    decided_by       uuid REFERENCES users(id),
    decided_at       timestamptz,
    CHECK (evidence IS NULL AND albo_number IS NULL AND inclusion_hires IS NULL AND total_staff IS NULL
        OR evidence = 'social_cooperative_b' AND albo_number IS NOT NULL AND inclusion_hires IS NULL AND total_staff IS NULL
        OR evidence = 'self_declaration' AND albo_number IS NULL AND inclusion_hires IS NOT NULL
           AND total_staff IS NOT NULL AND inclusion_hires <= total_staff),
    CHECK ((status = 'approved') = (valid_until IS NOT NULL)),
    CHECK (status = 'pending' OR decided_at IS NOT NULL),   -- decided_by is NULL only in demo data
    CHECK (status <> 'approved' OR evidence IS NOT NULL),
    CHECK (status <> 'rejected' OR length(btrim(decision_note)) > 0)
);
-- At most one open request per provider: a new one replaces its evidence.
CREATE UNIQUE INDEX inclusion_label_requests_open_idx ON inclusion_label_requests (provider_id) WHERE status = 'pending';
CREATE INDEX inclusion_label_requests_queue_idx ON inclusion_label_requests (requested_at) WHERE status = 'pending';
CREATE INDEX inclusion_label_requests_granted_idx ON inclusion_label_requests (provider_id, valid_until DESC) WHERE status = 'approved';
CREATE INDEX inclusion_label_requests_provider_idx ON inclusion_label_requests (provider_id, requested_at DESC);

-- Labels that providers put on their own offerings go back to "pending":
-- one request per provider, with no evidence yet, recording the label.
INSERT INTO inclusion_label_requests (provider_id, legacy_label, requested_at)
SELECT DISTINCT ON (provider_id) provider_id, inclusion_label, created_at
  FROM offerings WHERE inclusion_label IS NOT NULL
 ORDER BY provider_id, (inclusion_label = 'fund_programme') DESC, created_at;
ALTER TABLE offerings DROP COLUMN inclusion_label;

-- What changed in an offering people can see (its provider approved):
-- title, description and category, with the values before and after,
-- when and by whom (the name and e-mail at the time of the change).
CREATE TABLE offering_changes (
    id             bigserial PRIMARY KEY,
    offering_id    uuid NOT NULL REFERENCES offerings(id),
    provider_id    uuid NOT NULL REFERENCES providers(organisation_id),
    field          text NOT NULL CHECK (field IN ('title', 'description', 'category')),
    old_value      text NOT NULL,
    new_value      text NOT NULL,
    changed_by     uuid REFERENCES users(id),
    changed_by_name text NOT NULL,
    changed_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX offering_changes_at_idx ON offering_changes (id DESC);
CREATE INDEX offering_changes_offering_idx ON offering_changes (offering_id, id DESC);

-- +goose Down
DROP TABLE offering_changes;
ALTER TABLE offerings ADD COLUMN inclusion_label text CHECK (inclusion_label IN ('social_cooperative', 'fund_programme'));
UPDATE offerings o SET inclusion_label = r.legacy_label
  FROM inclusion_label_requests r WHERE r.provider_id = o.provider_id AND r.legacy_label IS NOT NULL;
DROP TABLE inclusion_label_requests;
