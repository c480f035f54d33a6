-- +goose Up
-- Welfare plans (internal/plans): a company's employees as HR describes
-- them, its plans, and the allocations that give the plans' credits. The
-- money itself is in the ledger (company:{id}:budget → employee:{id}:wallet,
-- one lot per credit); these tables say why it moved and to whom.

-- A homogeneous category of employees ("categoria omogenea": operai,
-- impiegati, quadri…), defined by each company. Plan amounts are set per
-- category, never per person.
CREATE TABLE employee_categories (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    company_id  uuid NOT NULL REFERENCES organisations(id),
    code        text NOT NULL CHECK (code ~ '^[a-z0-9][a-z0-9_-]{0,39}$'),
    name        text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 100),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (company_id, code)
);

-- What HR records about an employee (a user of the company). Until
-- leaves_on the employee can spend; afterwards the plan's residual rules
-- apply to what is left.
CREATE TABLE employees (
    user_id          uuid PRIMARY KEY REFERENCES users(id),
    company_id       uuid NOT NULL REFERENCES organisations(id),
    category_id      uuid NOT NULL REFERENCES employee_categories(id),
    employee_number  text NOT NULL DEFAULT '' CHECK (length(employee_number) <= 40),
    tax_code         text NOT NULL DEFAULT '' CHECK (tax_code = '' OR tax_code ~ '^[A-Z0-9]{16}$'),
    hired_on         date,
    part_time_pct    integer NOT NULL DEFAULT 100 CHECK (part_time_pct BETWEEN 1 AND 100),
    leaves_on        date,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX employees_company_idx ON employees (company_id, category_id);

-- A welfare plan. Ordinary plans take their amounts from rules per
-- category; PdR plans from each employee's conversion choice. The money
-- rules (amounts, categories, expiry, residual policy) are frozen once
-- credits are allocated (the service refuses changes).
CREATE TABLE welfare_plans (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    company_id        uuid NOT NULL REFERENCES organisations(id),
    kind              text NOT NULL CHECK (kind IN ('ordinary', 'pdr')),
    name              text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 120),
    plan_year         integer NOT NULL CHECK (plan_year BETWEEN 2000 AND 2100),
    starts_on         date NOT NULL,
    ends_on           date NOT NULL,
    categories        text[] NOT NULL CHECK (cardinality(categories) > 0),
    residual_policy   text NOT NULL CHECK (residual_policy IN ('return', 'carry_over', 'donate', 'pension_fund', 'payroll')),
    carry_over_until  date,
    status            text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    created_by        uuid REFERENCES users(id),
    created_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_on >= starts_on),
    CHECK ((residual_policy = 'carry_over') = (carry_over_until IS NOT NULL)),
    CHECK (carry_over_until IS NULL OR carry_over_until > ends_on),
    CHECK (kind = 'ordinary' OR residual_policy IN ('pension_fund', 'payroll')),
    CHECK (kind = 'pdr' OR residual_policy IN ('return', 'carry_over', 'donate'))
);
CREATE INDEX welfare_plans_company_idx ON welfare_plans (company_id, created_at DESC);

-- The amount an ordinary plan gives each employee of a category, before
-- pro-rata (internal/plans/amounts.go).
CREATE TABLE welfare_plan_rules (
    plan_id       uuid NOT NULL REFERENCES welfare_plans(id) ON DELETE CASCADE,
    category_id   uuid NOT NULL REFERENCES employee_categories(id),
    amount_cents  bigint NOT NULL CHECK (amount_cents > 0 AND amount_cents <= 100000000),
    PRIMARY KEY (plan_id, category_id)
);

-- One allocation: a whole plan to its eligible employees (kind plan) or
-- a one-off correction to one employee (kind correction, with a reason).
-- A plan allocation reserves its total with a ledger hold on the budget
-- (hold_tx), then credits its items in chunks; each chunk voids the hold,
-- posts its credits and holds what is still to credit, in one database
-- transaction, so money is never both held and credited.
CREATE TABLE welfare_allocations (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    plan_id       uuid NOT NULL REFERENCES welfare_plans(id),
    company_id    uuid NOT NULL REFERENCES organisations(id),
    kind          text NOT NULL CHECK (kind IN ('plan', 'correction')),
    status        text NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    reason        text NOT NULL DEFAULT '',
    total_cents   bigint NOT NULL CHECK (total_cents > 0),
    employees     integer NOT NULL CHECK (employees > 0),
    credited      integer NOT NULL DEFAULT 0,
    hold_tx       bigint,
    hold_seq      integer NOT NULL DEFAULT 0,
    last_error    text NOT NULL DEFAULT '',
    created_by    uuid REFERENCES users(id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    CHECK (kind = 'plan' OR reason <> '')
);
CREATE INDEX welfare_allocations_plan_idx ON welfare_allocations (plan_id, created_at DESC);
CREATE INDEX welfare_allocations_running_idx ON welfare_allocations (created_at) WHERE status = 'running';

-- Each employee's credit in an allocation: the amount and how it was
-- computed, and the ledger transaction once credited.
CREATE TABLE welfare_allocation_items (
    allocation_id  uuid NOT NULL REFERENCES welfare_allocations(id),
    user_id        uuid NOT NULL REFERENCES users(id),
    amount_cents   bigint NOT NULL CHECK (amount_cents > 0),
    basis          text NOT NULL DEFAULT '',
    tx_id          bigint,
    PRIMARY KEY (allocation_id, user_id)
);
CREATE INDEX welfare_allocation_items_todo_idx ON welfare_allocation_items (allocation_id, user_id) WHERE tx_id IS NULL;
CREATE INDEX welfare_allocation_items_user_idx ON welfare_allocation_items (user_id);

-- +goose Down
DROP TABLE welfare_allocation_items;
DROP TABLE welfare_allocations;
DROP TABLE welfare_plan_rules;
DROP TABLE welfare_plans;
DROP TABLE employees;
DROP TABLE employee_categories;
