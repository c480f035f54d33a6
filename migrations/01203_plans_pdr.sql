-- +goose Up
-- Performance-bonus (PdR) conversion (internal/plans/pdr.go). HR records
-- each eligible employee's bonus on a PdR plan, with the previous year's
-- employment income that makes them eligible; the employee chooses how
-- much of it to convert into welfare credit (convert_cents; NULL until
-- they choose), up to the dated rule set's cap. Allocating the plan then
-- credits each choice, once.
CREATE TABLE pdr_bonuses (
    plan_id             uuid NOT NULL REFERENCES welfare_plans(id),
    user_id             uuid NOT NULL REFERENCES users(id),
    company_id          uuid NOT NULL REFERENCES organisations(id),
    bonus_cents         bigint NOT NULL CHECK (bonus_cents > 0 AND bonus_cents <= 100000000),
    prior_income_cents  bigint NOT NULL CHECK (prior_income_cents >= 0),
    convert_cents       bigint CHECK (convert_cents >= 0 AND convert_cents <= bonus_cents),
    chosen_at           timestamptz,
    recorded_by         uuid REFERENCES users(id),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (plan_id, user_id),
    CHECK ((convert_cents IS NULL) = (chosen_at IS NULL))
);
CREATE INDEX pdr_bonuses_user_idx ON pdr_bonuses (user_id);

-- The substitute tax on a PdR paid in cash (basis points: 500 = 5%): the
-- employee compares it with converting, which is tax-free.
ALTER TABLE welfare_rule_sets ADD COLUMN pdr_tax_rate_bp integer NOT NULL DEFAULT 500
    CHECK (pdr_tax_rate_bp BETWEEN 0 AND 10000);
UPDATE welfare_rule_sets SET pdr_tax_rate_bp = 100,
    source = source || '; imposta sostitutiva sul PdR in denaro 1% nel 2026–2027'
    WHERE valid_from = '2026-01-01';
UPDATE welfare_rule_sets SET source = source || '; imposta sostitutiva sul PdR in denaro 5%'
    WHERE valid_from = '2025-01-01';

-- +goose Down
ALTER TABLE welfare_rule_sets DROP COLUMN pdr_tax_rate_bp;
DROP TABLE pdr_bonuses;
