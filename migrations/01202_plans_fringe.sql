-- +goose Up
-- The fringe-benefit meter (TUIR art. 51 c.3; internal/plans/fringe.go).
-- Amounts and ceilings change by law each year, so they live in dated rule
-- sets, never in code: the set in force on a day is the latest valid_from
-- on or before it.
CREATE TABLE welfare_rule_sets (
    valid_from                date PRIMARY KEY,
    fringe_ceiling_cents      bigint NOT NULL CHECK (fringe_ceiling_cents >= 0),
    fringe_children_cents     bigint NOT NULL CHECK (fringe_children_cents >= fringe_ceiling_cents),
    pdr_cap_cents             bigint NOT NULL CHECK (pdr_cap_cents >= 0),
    pdr_income_ceiling_cents  bigint NOT NULL CHECK (pdr_income_ceiling_cents >= 0),
    source                    text NOT NULL
);
INSERT INTO welfare_rule_sets VALUES
    ('2025-01-01', 100000, 200000, 300000, 8000000,
     'L. 207/2024 (bilancio 2025): fringe benefit €1.000, €2.000 con figli a carico, 2025–2027; PdR convertibile fino a €3.000, reddito ≤ €80.000'),
    ('2026-01-01', 100000, 200000, 500000, 8000000,
     'PdR convertibile fino a €5.000 nel 2026–2027, reddito dell''anno prima ≤ €80.000; fringe invariati');

-- An employee's declaration of dependent children: their tax codes, from
-- a date. The latest declaration in force decides; an empty list
-- withdraws it. This, not an HR flag, is what raises the fringe ceiling.
CREATE TABLE children_declarations (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES users(id),
    tax_codes   text[] NOT NULL,
    valid_from  date NOT NULL,
    declared_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX children_declarations_user_idx ON children_declarations (user_id, valid_from DESC, declared_at DESC);

-- Fringe benefits given outside the platform (utilities, rent, mortgage
-- interest, fuel), recorded by HR per employee and tax year.
CREATE TABLE fringe_outside (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    company_id    uuid NOT NULL REFERENCES organisations(id),
    user_id       uuid NOT NULL REFERENCES users(id),
    tax_year      integer NOT NULL CHECK (tax_year BETWEEN 2000 AND 2100),
    kind          text NOT NULL CHECK (kind IN ('utilities', 'rent', 'mortgage_interest', 'fuel', 'other')),
    amount_cents  bigint NOT NULL CHECK (amount_cents > 0),
    note          text NOT NULL DEFAULT '',
    created_by    uuid REFERENCES users(id),
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX fringe_outside_user_idx ON fringe_outside (user_id, tax_year);

-- What the platform counts: + when a fringe-type voucher is issued, −
-- on its cancellation, expiry or refund (the redemption domain calls
-- plans.ChargeFringe), one row per reference, so a retry counts once.
CREATE TABLE fringe_meter (
    reference     text PRIMARY KEY CHECK (length(reference) BETWEEN 1 AND 200),
    user_id       uuid NOT NULL REFERENCES users(id),
    tax_year      integer NOT NULL,
    amount_cents  bigint NOT NULL CHECK (amount_cents <> 0),
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX fringe_meter_user_idx ON fringe_meter (user_id, tax_year);

-- +goose Down
DROP TABLE fringe_meter;
DROP TABLE fringe_outside;
DROP TABLE children_declarations;
DROP TABLE welfare_rule_sets;
