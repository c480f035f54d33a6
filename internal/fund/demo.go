package fund

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/ledger"
)

// DemoStaff are the demo fund's people the demo cases are written by.
type DemoStaff struct {
	Worker, Approver, Manager uuid.UUID
}

// demoCase is one demo case: who, from where, how far it got.
type demoCase struct {
	first, last, birth, fiscal string
	referral                   Referral
	status                     string // open, active, closed
	grant                      int64  // an emergency grant, cents (0: none)
	grantState                 string // proposed, approved, paid, rejected
	outcomes                   []string
}

var demoCases = []demoCase{
	{"Giuseppe", "Colombo", "1968-03-14", "", "caritas", "open", 0, "", nil},
	{"Fatima", "El Amrani", "1991-07-02", "", "social_services", "open", 0, "", nil},
	{"Luca", "Sala", "1985-11-23", "SLALCU85S23E507J", "territorial_table", "open", 0, "", nil},
	{"Anna", "Brambilla", "1979-05-09", "BRMNNA79E49E507G", "caritas", "active", 45000, "paid", []string{"diagnosis"}},
	{"Ionut", "Popescu", "1988-01-30", "", "employer", "active", 30000, "approved", []string{"diagnosis", "job_accompaniment"}},
	{"Marta", "Ferrari", "1995-09-17", "FRRMRT95P57E507G", "social_services", "active", 60000, "proposed", []string{"diagnosis"}},
	{"Kofi", "Mensah", "1983-12-05", "", "territorial_table", "active", 20000, "rejected", []string{"diagnosis", "return_to_training"}},
	{"Paola", "Riva", "1972-04-21", "RVIPLA72D61E507D", "self", "active", 25000, "paid", []string{"diagnosis", "care_pathway"}},
	{"Davide", "Galli", "1990-08-11", "", "caritas", "closed", 40000, "paid", []string{"diagnosis", "job_insertion_project", "fixed_term_hire"}},
	{"Elena", "Mauri", "1987-02-26", "MRALNE87B66E507W", "employer", "closed", 35000, "paid", []string{"diagnosis", "business_startup"}},
	{"Samuel", "Okoro", "1993-06-08", "", "social_services", "closed", 0, "", []string{"diagnosis", "permanent_hire"}},
	{"Rosa", "Cattaneo", "1965-10-03", "", "territorial_table", "closed", 15000, "paid", []string{"diagnosis"}},
}

// SeedDemo writes the demo cases of fund inside the caller's transaction:
// a dozen beneficiaries sealed with the development vault key, cases open,
// active and closed, emergency grants proposed, approved, rejected and
// paid (through an executed demo batch, so the ledger holds the payments
// and their attribution), outcomes with their follow-ups.
func SeedDemo(ctx context.Context, tx *sqlx.Tx, fund uuid.UUID, staff DemoStaff) error {
	s := &Service{cfg: Config{VaultKey: DevVaultKey}, now: time.Now}
	var env uuid.UUID
	var yearlyCap int64
	if err := tx.GetContext(ctx, &env, `SELECT id FROM fund_envelopes WHERE fund_id = $1 AND theme = 'emergencies'`, fund); err != nil {
		return fmt.Errorf("the demo fund needs its emergencies envelope: %w", err)
	}
	if err := tx.GetContext(ctx, &yearlyCap, `SELECT yearly_cap FROM fund_envelopes WHERE id = $1`, env); err != nil {
		return err
	}
	if _, err := ledger.CreateAccount(ctx, tx, ledger.AccountSpec{Path: BankAccount, Kind: ledger.Asset}); err != nil {
		return err
	}
	batch := uuid.MustParse("0d000000-0000-4000-8000-00000000fb01")
	seq := 0
	assessment, _ := json.Marshal(Assessment{Work: Area{"high", "disoccupato da 8 mesi"}, Household: Area{"medium", "due figli minori"},
		Housing: Area{"high", "affitto arretrato"}, Debts: Area{"medium", ""}, Skills: Area{"low", "patente B, esperienza in magazzino"},
		Barriers: Area{"medium", "orari dei servizi per l'infanzia"}})
	for i, d := range demoCases {
		id := Identity{FirstName: d.first, LastName: d.last, BirthDate: d.birth, FiscalCode: d.fiscal, Address: "Lecco"}
		ben, _, err := s.addBeneficiary(ctx, tx, fund, &staff.Worker, id)
		if err != nil {
			return err
		}
		caseID := uuid.New()
		opened := time.Now().AddDate(0, -10+i/2, -i)
		if _, err := tx.ExecContext(ctx, `INSERT INTO fund_cases (id, fund_id, beneficiary_id, referral, status, opened_by, opened_at,
			assessment, assessed_at, outcome, closed_at) VALUES ($1, $2, $3, $4, $5, $6, $7,
			CASE WHEN $5 = 'open' THEN '{}'::jsonb ELSE $8::text::jsonb END, CASE WHEN $5 = 'open' THEN NULL ELSE $7::timestamptz + interval '7 days' END,
			CASE WHEN $5 = 'closed' THEN 'goals_met' END, CASE WHEN $5 = 'closed' THEN now() - interval '10 days' END)`,
			caseID, fund, ben, d.referral, d.status, staff.Worker, opened, string(assessment)); err != nil {
			return apperr.Wrap(err, "demo case")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO fund_case_workers (case_id, user_id) VALUES ($1, $2)`, caseID, staff.Worker); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO fund_legal_bases (case_id, purpose, basis, scope, given_on, recorded_by) VALUES
			($1, 'case_management', 'consent', 'gestione del caso e contatti con i servizi', $2, $3),
			($1, 'payments', 'legal_obligation', 'art. 2220 c.c.: registrazioni dei pagamenti conservate 10 anni', $2, $3)`,
			caseID, opened.Format(time.DateOnly), staff.Worker); err != nil {
			return err
		}
		if err := caseEvent(ctx, tx, caseID, nil, "opened", map[string]any{"referral": d.referral, "demo": true}); err != nil {
			return err
		}
		if d.status != "open" {
			if _, err := tx.ExecContext(ctx, `INSERT INTO fund_goals (case_id, text, due_on, created_by) VALUES
				($1, 'Rientrare nel lavoro entro sei mesi', $2::date + 180, $3), ($1, 'Mettere in regola l''affitto', $2::date + 60, $3)`,
				caseID, opened.Format(time.DateOnly), staff.Worker); err != nil {
				return err
			}
		}
		if d.grant > 0 {
			in := uuid.New()
			status := "proposed"
			if d.grantState == "rejected" {
				status = "rejected"
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO fund_interventions (id, fund_id, case_id, envelope_id, kind, amount, purpose,
				payee_name, payee_iban, payee_reference, payee_town, payee_country, status, proposed_by, proposed_at, rejected_by, rejected_reason)
				VALUES ($1, $2, $3, $4, 'emergency_grant', $5, 'arretrato di affitto', 'Immobiliare Lariana S.r.l.', 'IT60X0542811101000000123456',
				$6, 'Lecco', 'IT', $7, $8, $9, CASE WHEN $7 = 'rejected' THEN $10::uuid END,
				CASE WHEN $7 = 'rejected' THEN 'coperto dal fondo affitti del Comune' END)`,
				in, fund, caseID, env, d.grant, fmt.Sprintf("Fattura 2026/%03d", 100+i), status, staff.Worker, opened.AddDate(0, 0, 10), staff.Approver); err != nil {
				return apperr.Wrap(err, "demo intervention")
			}
			if d.grantState == "approved" || d.grantState == "paid" {
				if _, err := tx.ExecContext(ctx, `INSERT INTO fund_approvals (intervention_id, approver_id) VALUES ($1, $2)`, in, staff.Approver); err != nil {
					return err
				}
				if err := s.commit(ctx, tx, fund, in, env, ThemeEmergencies, d.grant, yearlyCap); err != nil {
					return err
				}
			}
			if d.grantState == "paid" {
				if seq == 0 {
					if _, err := tx.ExecContext(ctx, `INSERT INTO fund_batches (id, fund_id, message_id, created_by, execution_on, status, executed_at, executed_by)
						VALUES ($1, $2, 'RCPFUND-DEMO-0001', $3, current_date - 5, 'executed', now() - interval '5 days', $3)`, batch, fund, staff.Manager); err != nil {
						return err
					}
				}
				seq++
				line := uuid.New()
				res, err := ledger.Post(ctx, tx, ledger.Request{Key: "seed.fund.pay:" + line.String(), Kind: "fund.disbursement", Reference: in.String(),
					Postings: []ledger.Posting{{From: "fund:" + fund.String() + ":committed:" + in.String(), To: BankAccount, Amount: d.grant}}})
				if err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO fund_batch_lines (id, batch_id, intervention_id, seq, amount, end_to_end_id, status, payment_tx)
					VALUES ($1, $2, $3, $4, $5, $6, 'paid', $7)`, line, batch, in, seq, d.grant, fmt.Sprintf("RCPFUND-DEMO-0001-%d", seq), res.TxID); err != nil {
					return err
				}
				if err := recordLots(ctx, tx, in, res.TxID); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `UPDATE fund_interventions SET status = 'paid', paid = amount, closed_at = now() WHERE id = $1`, in); err != nil {
					return err
				}
			}
		}
		for j, ind := range d.outcomes {
			on := opened.AddDate(0, 1+j, 0)
			if on.After(time.Now()) {
				on = time.Now().AddDate(0, 0, -1)
			}
			out := uuid.New()
			if _, err := tx.ExecContext(ctx, `INSERT INTO fund_outcomes (id, case_id, indicator, achieved_on, recorded_by) VALUES ($1, $2, $3, $4, $5)`,
				out, caseID, ind, on.Format(time.DateOnly), staff.Worker); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO fund_followups (outcome_id, months, due_on)
				VALUES ($1, 6, $2::date + interval '6 months'), ($1, 12, $2::date + interval '12 months')`, out, on.Format(time.DateOnly)); err != nil {
				return err
			}
		}
	}
	return nil
}
