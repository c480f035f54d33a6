-- +goose Up
-- The inclusion fund (internal/fund). Money is never stored here: the
-- pool, the envelopes and the commitments are ledger accounts
-- (fund:{fund}:pool, fund:{fund}:envelope:{theme},
-- fund:{fund}:committed:{intervention}); these tables hold what the fund
-- decided and the ledger transaction that did it.

-- A fund is an organisation of kind fund. Its settings: the four-eyes
-- threshold and what the bank file needs (the CBI company code, CUC, and
-- the account the fund's money is paid from).
CREATE TABLE funds (
    organisation_id     uuid PRIMARY KEY REFERENCES organisations(id),
    territory           text NOT NULL DEFAULT '',
    approval_threshold  bigint NOT NULL DEFAULT 50000 CHECK (approval_threshold > 0),
    cuc                 text NOT NULL DEFAULT '' CHECK (cuc = '' OR cuc ~ '^[0-9A-Z]{8}$'),
    debtor_name         text NOT NULL DEFAULT '',
    debtor_iban         text NOT NULL DEFAULT '',
    created_at          timestamptz NOT NULL DEFAULT now()
);

-- An envelope earmarks the fund's money for a theme; yearly_cap bounds
-- what can be committed from it per calendar year (Italian time).
CREATE TABLE fund_envelopes (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    fund_id     uuid NOT NULL REFERENCES funds(organisation_id),
    theme       text NOT NULL CHECK (theme IN ('emergencies', 'job_placement', 'training', 'business_startup', 'care_pathways')),
    yearly_cap  bigint NOT NULL CHECK (yearly_cap >= 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (fund_id, theme)
);

-- Pool → envelope postings by a fund manager.
CREATE TABLE fund_earmarks (
    id           bigserial PRIMARY KEY,
    envelope_id  uuid NOT NULL REFERENCES fund_envelopes(id),
    amount       bigint NOT NULL CHECK (amount > 0),
    tx_id        bigint NOT NULL,
    created_by   uuid REFERENCES users(id),
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX fund_earmarks_envelope_idx ON fund_earmarks (envelope_id, created_at);

-- Direct donations: a company admin gives from the company budget; the
-- pool receives a contributor lot attributed to the company.
CREATE TABLE fund_donations (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    fund_id     uuid NOT NULL REFERENCES funds(organisation_id),
    company_id  uuid NOT NULL REFERENCES organisations(id),
    amount      bigint NOT NULL CHECK (amount > 0),
    tx_id       bigint NOT NULL,
    created_by  uuid REFERENCES users(id),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX fund_donations_company_idx ON fund_donations (company_id, created_at);

-- Earmarks and donations are records of ledger postings: never changed.
REVOKE UPDATE, DELETE, TRUNCATE ON fund_earmarks, fund_donations FROM reciproca_app;


-- Beneficiaries are pseudonyms. Who they are lives only in the vault:
-- sealed (AES-256-GCM) with the beneficiary's own key, itself sealed with
-- the master key from the environment (FUND_VAULT_KEY). Erasing the
-- wrapped key erases the identity, in backups too (crypto-shredding);
-- the pseudonym, the cases' figures and the ledger stay.
CREATE TABLE fund_beneficiaries (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    fund_id     uuid NOT NULL REFERENCES funds(organisation_id),
    pseudonym   text NOT NULL UNIQUE,
    created_by  uuid REFERENCES users(id),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE fund_vault (
    beneficiary_id    uuid PRIMARY KEY REFERENCES fund_beneficiaries(id),
    wrapped_key       bytea,      -- NULL once erased
    identity          bytea,      -- sealed JSON; NULL once erased
    fiscal_code_hash  bytea,      -- keyed hash (HMAC-SHA256) of the fiscal code, when there is one
    person_hash       bytea,      -- keyed hash of name and birth date
    erased_at         timestamptz,
    erased_reason     text,
    CHECK ((erased_at IS NULL) = (wrapped_key IS NOT NULL))
);
CREATE INDEX fund_vault_fiscal_idx ON fund_vault (fiscal_code_hash) WHERE fiscal_code_hash IS NOT NULL;
CREATE INDEX fund_vault_person_idx ON fund_vault (person_hash) WHERE person_hash IS NOT NULL;

-- Cases: the beneficiary's pseudonym, never their name.
CREATE TABLE fund_cases (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    fund_id         uuid NOT NULL REFERENCES funds(organisation_id),
    beneficiary_id  uuid NOT NULL REFERENCES fund_beneficiaries(id),
    referral        text NOT NULL CHECK (referral IN ('territorial_table', 'caritas', 'social_services', 'employer', 'self')),
    status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'active', 'closed')),
    outcome         text CHECK (outcome IN ('goals_met', 'partly_met', 'not_met', 'moved_away', 'withdrew')),
    assessment      jsonb NOT NULL DEFAULT '{}',
    assessed_at     timestamptz,
    notes           text NOT NULL DEFAULT '',
    opened_by       uuid REFERENCES users(id),
    opened_at       timestamptz NOT NULL DEFAULT now(),
    closed_at       timestamptz,
    CHECK ((status = 'closed') = (closed_at IS NOT NULL AND outcome IS NOT NULL))
);
CREATE INDEX fund_cases_fund_idx ON fund_cases (fund_id, status, opened_at DESC);
CREATE INDEX fund_cases_beneficiary_idx ON fund_cases (beneficiary_id);
CREATE TABLE fund_case_workers (
    case_id  uuid NOT NULL REFERENCES fund_cases(id),
    user_id  uuid NOT NULL REFERENCES users(id),
    PRIMARY KEY (case_id, user_id)
);
-- Legal basis per purpose: consent (GDPR art. 9) with its scope, date,
-- who recorded it and its withdrawal; or the legal obligation that keeps
-- payment records 10 years (art. 2220 c.c.).
CREATE TABLE fund_legal_bases (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    case_id       uuid NOT NULL REFERENCES fund_cases(id),
    purpose       text NOT NULL CHECK (purpose IN ('case_management', 'health_data', 'payments', 'follow_up')),
    basis         text NOT NULL CHECK (basis IN ('consent', 'legal_obligation')),
    scope         text NOT NULL DEFAULT '',
    given_on      date NOT NULL,
    recorded_by   uuid REFERENCES users(id),
    recorded_at   timestamptz NOT NULL DEFAULT now(),
    withdrawn_at  timestamptz,
    withdrawn_by  uuid REFERENCES users(id),
    CHECK (basis = 'consent' OR withdrawn_at IS NULL)
);
CREATE INDEX fund_legal_bases_case_idx ON fund_legal_bases (case_id);
CREATE TABLE fund_goals (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    case_id    uuid NOT NULL REFERENCES fund_cases(id),
    text       text NOT NULL CHECK (length(btrim(text)) > 0),
    due_on     date,
    done_on    date,
    created_by uuid REFERENCES users(id),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX fund_goals_case_idx ON fund_goals (case_id);
-- A case's history: every step, who and when.
CREATE TABLE fund_case_events (
    id       bigserial PRIMARY KEY,
    case_id  uuid NOT NULL REFERENCES fund_cases(id),
    at       timestamptz NOT NULL DEFAULT now(),
    actor    uuid REFERENCES users(id),
    event    text NOT NULL,
    details  jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX fund_case_events_case_idx ON fund_case_events (case_id, id);

-- Every read of identity data or of a case, every refused attempt and
-- every break-glass access: who, when, which record, with the purpose
-- the reader gave for this working session.
CREATE TABLE fund_access_log (
    id              bigserial PRIMARY KEY,
    fund_id         uuid NOT NULL,
    user_id         uuid REFERENCES users(id),
    at              timestamptz NOT NULL DEFAULT now(),
    action          text NOT NULL CHECK (action IN ('read_case', 'read_identity', 'break_glass', 'denied', 'export', 'erase')),
    case_id         uuid,
    beneficiary_id  uuid,
    purpose         text NOT NULL DEFAULT '',
    reason          text NOT NULL DEFAULT ''
);
CREATE INDEX fund_access_log_fund_idx ON fund_access_log (fund_id, id DESC);
CREATE INDEX fund_access_log_beneficiary_idx ON fund_access_log (beneficiary_id, id DESC);
-- The purpose a person gave for their working session (a session is
-- named by a hash of its credential, never the credential).
CREATE TABLE fund_session_purposes (
    user_id      uuid NOT NULL REFERENCES users(id),
    session_key  text NOT NULL,
    purpose      text NOT NULL CHECK (purpose IN ('case_management', 'assessment', 'payment', 'follow_up', 'supervision', 'data_subject_request')),
    set_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, session_key)
);
-- Break-glass: a case worker not assigned to a case reads it with a reason,
-- for a limited time.
CREATE TABLE fund_break_glass (
    id          bigserial PRIMARY KEY,
    case_id     uuid NOT NULL REFERENCES fund_cases(id),
    user_id     uuid NOT NULL REFERENCES users(id),
    reason      text NOT NULL CHECK (length(btrim(reason)) >= 10),
    at          timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX fund_break_glass_idx ON fund_break_glass (case_id, user_id, expires_at);

-- Micro-interventions: charged to an envelope, committed to their own
-- ledger account at approval, paid to a creditor by bank file or to a
-- marketplace provider's payable on delivery.
CREATE TABLE fund_interventions (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    fund_id           uuid NOT NULL REFERENCES funds(organisation_id),
    case_id           uuid NOT NULL REFERENCES fund_cases(id),
    envelope_id       uuid NOT NULL REFERENCES fund_envelopes(id),
    kind              text NOT NULL CHECK (kind IN ('emergency_grant', 'training', 'internship', 'startup_grant', 'catalogue_service')),
    amount            bigint NOT NULL CHECK (amount > 0),
    purpose           text NOT NULL DEFAULT '',
    payee_name        text NOT NULL DEFAULT '',
    payee_iban        text NOT NULL DEFAULT '',
    payee_reference   text NOT NULL DEFAULT '',
    payee_street      text NOT NULL DEFAULT '',
    payee_building    text NOT NULL DEFAULT '',
    payee_postcode    text NOT NULL DEFAULT '',
    payee_town        text NOT NULL DEFAULT '',
    payee_country     text NOT NULL DEFAULT '',
    provider_id       uuid REFERENCES organisations(id),
    status            text NOT NULL DEFAULT 'proposed'
                      CHECK (status IN ('proposed', 'approved', 'rejected', 'paid', 'cancelled')),
    approvals_needed  int NOT NULL DEFAULT 1 CHECK (approvals_needed IN (1, 2)),
    proposed_by       uuid NOT NULL REFERENCES users(id),
    proposed_at       timestamptz NOT NULL DEFAULT now(),
    approved_at       timestamptz,
    approval_tx       bigint,
    rejected_by       uuid REFERENCES users(id),
    rejected_reason   text,
    delivered_by      uuid REFERENCES users(id),
    delivered_at      timestamptz,
    paid              bigint NOT NULL DEFAULT 0 CHECK (paid >= 0),
    released          bigint NOT NULL DEFAULT 0 CHECK (released >= 0),
    closed_at         timestamptz,
    CHECK ((provider_id IS NULL) = (payee_iban <> '')),
    CHECK (status <> 'rejected' OR length(btrim(rejected_reason)) > 0),
    CHECK (paid + released <= amount)
);
CREATE INDEX fund_interventions_case_idx ON fund_interventions (case_id, proposed_at);
CREATE INDEX fund_interventions_fund_idx ON fund_interventions (fund_id, status);
CREATE INDEX fund_interventions_envelope_idx ON fund_interventions (envelope_id, approved_at);
CREATE TABLE fund_approvals (
    intervention_id  uuid NOT NULL REFERENCES fund_interventions(id),
    approver_id      uuid NOT NULL REFERENCES users(id),
    approved_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (intervention_id, approver_id)
);

-- Payment batches: one CBI pain.001 file each, rendered from these rows
-- (same rows, same bytes, same message id).
CREATE TABLE fund_batches (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    fund_id       uuid NOT NULL REFERENCES funds(organisation_id),
    message_id    text NOT NULL UNIQUE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    created_by    uuid REFERENCES users(id),
    execution_on  date NOT NULL,
    status        text NOT NULL DEFAULT 'exported' CHECK (status IN ('exported', 'executed')),
    executed_at   timestamptz,
    executed_by   uuid REFERENCES users(id)
);
CREATE TABLE fund_batch_lines (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    batch_id         uuid NOT NULL REFERENCES fund_batches(id),
    intervention_id  uuid NOT NULL REFERENCES fund_interventions(id),
    seq              int NOT NULL,
    amount           bigint NOT NULL CHECK (amount > 0),
    end_to_end_id    text NOT NULL,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'paid', 'returned')),
    payment_tx       bigint,
    return_tx        bigint,
    return_reason    text,
    UNIQUE (batch_id, seq)
);
-- An intervention is in at most one batch that has not returned it.
CREATE UNIQUE INDEX fund_batch_lines_live_idx ON fund_batch_lines (intervention_id) WHERE status <> 'returned';
-- Which contributor lots each payment consumed: whose money paid for it.
CREATE TABLE fund_disbursement_lots (
    payment_tx       bigint NOT NULL,
    intervention_id  uuid NOT NULL REFERENCES fund_interventions(id),
    lot_id           bigint NOT NULL,
    company_id       text NOT NULL DEFAULT '',
    source           text NOT NULL DEFAULT '',
    amount           bigint NOT NULL,
    PRIMARY KEY (payment_tx, lot_id)
);
CREATE INDEX fund_disbursement_lots_company_idx ON fund_disbursement_lots (company_id);

-- Outcomes (the WIN indicators), each with its date on the case; the
-- follow-ups at 6 and 12 months are reminders.
CREATE TABLE fund_outcomes (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    case_id      uuid NOT NULL REFERENCES fund_cases(id),
    indicator    text NOT NULL CHECK (indicator IN ('diagnosis', 'job_accompaniment', 'business_startup', 'return_to_training',
                                                    'job_insertion_project', 'fixed_term_hire', 'permanent_hire', 'care_pathway')),
    achieved_on  date NOT NULL,
    recorded_by  uuid REFERENCES users(id),
    recorded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX fund_outcomes_case_idx ON fund_outcomes (case_id);
CREATE INDEX fund_outcomes_date_idx ON fund_outcomes (achieved_on);
CREATE TABLE fund_followups (
    outcome_id  uuid NOT NULL REFERENCES fund_outcomes(id),
    months      int NOT NULL CHECK (months IN (6, 12)),
    due_on      date NOT NULL,
    done_at     timestamptz,
    done_by     uuid REFERENCES users(id),
    note        text NOT NULL DEFAULT '',
    PRIMARY KEY (outcome_id, months)
);
CREATE INDEX fund_followups_due_idx ON fund_followups (due_on) WHERE done_at IS NULL;

-- Records of what happened are never rewritten.
REVOKE UPDATE, DELETE, TRUNCATE ON fund_access_log, fund_case_events, fund_approvals, fund_disbursement_lots FROM reciproca_app;

-- +goose Down
DROP TABLE fund_followups;
DROP TABLE fund_outcomes;
DROP TABLE fund_disbursement_lots;
DROP TABLE fund_batch_lines;
DROP TABLE fund_batches;
DROP TABLE fund_approvals;
DROP TABLE fund_interventions;
DROP TABLE fund_break_glass;
DROP TABLE fund_session_purposes;
DROP TABLE fund_access_log;
DROP TABLE fund_case_events;
DROP TABLE fund_goals;
DROP TABLE fund_legal_bases;
DROP TABLE fund_case_workers;
DROP TABLE fund_cases;
DROP TABLE fund_vault;
DROP TABLE fund_beneficiaries;
DROP TABLE fund_donations;
DROP TABLE fund_earmarks;
DROP TABLE fund_envelopes;
DROP TABLE funds;
