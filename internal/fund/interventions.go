package fund

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/ledger"
	"github.com/reciproca/reciproca/internal/sepa"
)

// Kind is what a micro-intervention is.
type Kind string

// The kinds of intervention.
const (
	KindEmergencyGrant   Kind = "emergency_grant"
	KindTraining         Kind = "training"
	KindInternship       Kind = "internship"
	KindStartupGrant     Kind = "startup_grant"
	KindCatalogueService Kind = "catalogue_service"
)

// Kinds lists them in the order forms offer them.
var Kinds = []Kind{KindEmergencyGrant, KindTraining, KindInternship, KindStartupGrant, KindCatalogueService}

// Intervention states.
const (
	StatusProposed  = "proposed"
	StatusApproved  = "approved"
	StatusRejected  = "rejected"
	StatusPaid      = "paid"
	StatusCancelled = "cancelled"
)

// Payee is who is paid: a creditor by bank transfer (exact account
// holder's name, IBAN, the invoice or notice reference, optionally a
// structured address), or a marketplace provider through its payable.
type Payee struct {
	Name      string     `json:"name"`
	IBAN      string     `json:"iban"`
	Reference string     `json:"reference"`
	Street    string     `json:"street,omitempty"`
	Building  string     `json:"building,omitempty"`
	PostCode  string     `json:"post_code,omitempty"`
	Town      string     `json:"town,omitempty"`
	Country   string     `json:"country,omitempty"`
	Provider  *uuid.UUID `json:"provider_id,omitempty"`
}

// Proposal is a case worker's proposal of an intervention.
type Proposal struct {
	Kind   Kind  `json:"kind"`
	Theme  Theme `json:"theme"`
	Amount int64 `json:"amount"`
	// Purpose is the internal description (never on the bank file).
	Purpose string `json:"purpose"`
	Payee   Payee  `json:"payee"`
}

func (p *Proposal) normalise() {
	p.Purpose = strings.TrimSpace(p.Purpose)
	p.Payee.Name = strings.TrimSpace(p.Payee.Name)
	p.Payee.IBAN = sepa.NormaliseIBAN(p.Payee.IBAN)
	p.Payee.Reference = strings.TrimSpace(p.Payee.Reference)
	p.Payee.Country = strings.ToUpper(strings.TrimSpace(p.Payee.Country))
	if p.Payee.Town != "" && p.Payee.Country == "" {
		p.Payee.Country = "IT"
	}
}

// Validate names every field at fault at once (apperr.AllInvalid).
func (p Proposal) Validate() error {
	checks := []error{
		problem(!slices.Contains(Kinds, p.Kind), "kind", "the kind must be one of emergency_grant, training, internship, startup_grant, catalogue_service"),
		p.Theme.Validate(),
		problem(p.Amount <= 0 || p.Amount > 10_000_000, "amount", "the amount must be between 1 cent and 100,000 euro"),
		problem(p.Purpose == "" || len(p.Purpose) > 1000, "purpose", "say what the intervention is for (up to 1000 characters)"),
	}
	switch {
	case p.Payee.Provider != nil:
		checks = append(checks, problem(p.Kind != KindCatalogueService && p.Kind != KindTraining, "provider_id",
			"only a catalogue service or a training course is paid to a marketplace provider"))
	case p.Kind == KindCatalogueService:
		checks = append(checks, invalidField("provider_id", "a catalogue service is paid to its marketplace provider"))
	default:
		checks = append(checks,
			problem(sepa.Latin(p.Payee.Name) == "" || len(p.Payee.Name) > 70, "payee_name",
				"the payee's exact account-holder name is required (up to 70 characters)"),
			problem(!sepa.ValidIBAN(p.Payee.IBAN), "iban", "the IBAN %q is not valid (its check digits do not match)", p.Payee.IBAN),
			problem(sepa.Latin(p.Payee.Reference) == "" || len(p.Payee.Reference) > 140, "reference",
				"the invoice or notice reference is required (up to 140 characters)"),
			problem((p.Payee.Street != "" || p.Payee.PostCode != "" || p.Payee.Building != "") && p.Payee.Town == "", "town",
				"a structured address needs the town"),
			problem(p.Payee.Country != "" && (len(p.Payee.Country) != 2 || p.Payee.Country[0] < 'A' || p.Payee.Country[0] > 'Z'), "country",
				"the country is a two-letter code such as IT"))
	}
	return apperr.AllInvalid(checks...)
}

// Intervention is an intervention with its approvals.
type Intervention struct {
	ID              uuid.UUID  `json:"id" db:"id"`
	CaseID          uuid.UUID  `json:"case_id" db:"case_id"`
	Pseudonym       string     `json:"pseudonym" db:"pseudonym"`
	Kind            Kind       `json:"kind" db:"kind"`
	Theme           Theme      `json:"theme" db:"theme"`
	Amount          int64      `json:"amount" db:"amount"`
	Purpose         string     `json:"purpose" db:"purpose"`
	PayeeName       string     `json:"payee_name" db:"payee_name"`
	PayeeIBAN       string     `json:"payee_iban" db:"payee_iban"`
	PayeeReference  string     `json:"payee_reference" db:"payee_reference"`
	ProviderID      *uuid.UUID `json:"provider_id,omitempty" db:"provider_id"`
	ProviderName    string     `json:"provider_name" db:"provider_name"`
	Status          string     `json:"status" db:"status"`
	ApprovalsNeeded int        `json:"approvals_needed" db:"approvals_needed"`
	Approvals       int        `json:"approvals" db:"approvals"`
	ProposedBy      uuid.UUID  `json:"proposed_by" db:"proposed_by"`
	ProposerName    string     `json:"proposer_name" db:"proposer_name"`
	ProposedAt      time.Time  `json:"proposed_at" db:"proposed_at"`
	ApprovedAt      *time.Time `json:"approved_at,omitempty" db:"approved_at"`
	RejectedReason  *string    `json:"rejected_reason,omitempty" db:"rejected_reason"`
	Paid            int64      `json:"paid" db:"paid"`
	Released        int64      `json:"released" db:"released"`
	InBatch         bool       `json:"in_batch" db:"in_batch"`
}

const interventionCols = `i.id, i.case_id, b.pseudonym, i.kind, e.theme, i.amount, i.purpose, i.payee_name, i.payee_iban,
	i.payee_reference, i.provider_id, coalesce(o.name, '') AS provider_name, i.status, i.approvals_needed,
	(SELECT count(*) FROM fund_approvals a WHERE a.intervention_id = i.id) AS approvals,
	i.proposed_by, coalesce(u.name, '') AS proposer_name, i.proposed_at, i.approved_at, i.rejected_reason, i.paid, i.released,
	EXISTS (SELECT 1 FROM fund_batch_lines l WHERE l.intervention_id = i.id AND l.status = 'pending') AS in_batch`

const interventionFrom = ` FROM fund_interventions i
	JOIN fund_cases c ON c.id = i.case_id JOIN fund_beneficiaries b ON b.id = c.beneficiary_id
	JOIN fund_envelopes e ON e.id = i.envelope_id
	LEFT JOIN organisations o ON o.id = i.provider_id LEFT JOIN users u ON u.id = i.proposed_by`

// Propose proposes an intervention on case id (a case worker of the
// case), charged to the envelope of the proposal's theme. Errors:
// forbidden, invalid (naming the field), not_found (case, envelope or
// provider), conflict (closed case; key reused).
func (s *Service) Propose(ctx context.Context, r Reader, caseID uuid.UUID, in Proposal, key string) (Intervention, error) {
	in.normalise()
	if err := in.Validate(); err != nil {
		return Intervention{}, err
	}
	var id uuid.UUID
	err := s.changeCase(ctx, r, caseID, "intervention_proposed", map[string]any{"kind": in.Kind, "amount": in.Amount, "theme": in.Theme},
		func(tx *sqlx.Tx) error {
			_, err := db.Idempotent(ctx, tx, db.Scope{Caller: r.P.UserID, Operation: "fund.propose"}, key,
				struct {
					Case uuid.UUID
					In   Proposal
				}{caseID, in}, &id, func(tx *sqlx.Tx) error {
					var env uuid.UUID
					if err := tx.GetContext(ctx, &env, `SELECT id FROM fund_envelopes WHERE fund_id = $1 AND theme = $2`, r.P.OrgID, in.Theme); err != nil {
						return db.MapError(err, "envelope "+string(in.Theme))
					}
					if in.Payee.Provider != nil {
						var kind string
						if err := tx.GetContext(ctx, &kind, `SELECT kind FROM organisations WHERE id = $1`, *in.Payee.Provider); err != nil || kind != string(auth.OrgProvider) {
							return apperr.New(apperr.NotFound, "provider not found").With("field", "provider_id")
						}
					}
					id = uuid.New()
					_, err := tx.ExecContext(ctx, `INSERT INTO fund_interventions (id, fund_id, case_id, envelope_id, kind, amount, purpose,
						payee_name, payee_iban, payee_reference, payee_street, payee_building, payee_postcode, payee_town, payee_country,
						provider_id, proposed_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
						id, r.P.OrgID, caseID, env, in.Kind, in.Amount, in.Purpose, in.Payee.Name, in.Payee.IBAN, in.Payee.Reference,
						in.Payee.Street, in.Payee.Building, in.Payee.PostCode, in.Payee.Town, in.Payee.Country, in.Payee.Provider, r.P.UserID)
					return apperr.Wrap(err, "proposing intervention")
				})
			return err
		})
	if err != nil {
		return Intervention{}, err
	}
	return s.intervention(ctx, s.db, r.P.OrgID, id)
}

func (s *Service) intervention(ctx context.Context, q sqlx.QueryerContext, fund, id uuid.UUID) (Intervention, error) {
	var out Intervention
	err := sqlx.GetContext(ctx, q, &out, `SELECT `+interventionCols+interventionFrom+` WHERE i.id = $1 AND i.fund_id = $2`, id, fund)
	return out, db.MapError(err, "intervention")
}

// Interventions lists the interventions of case id as r may see it.
// Errors: those of GetCase.
func (s *Service) Interventions(ctx context.Context, r Reader, caseID uuid.UUID) ([]Intervention, error) {
	if err := r.Purpose.Validate(); err != nil {
		return nil, err
	}
	if _, err := s.accessCase(ctx, s.db, r, caseID); err != nil {
		return nil, err
	}
	out := []Intervention{}
	err := sqlx.SelectContext(ctx, s.db, &out, `SELECT `+interventionCols+interventionFrom+` WHERE i.case_id = $1 ORDER BY i.proposed_at`, caseID)
	return out, apperr.Wrap(err, "listing interventions")
}

// Queue lists the interventions waiting for the caller: proposals to
// approve (approvers; their own proposals never), or approved ones to pay
// (fund managers). Pseudonyms only. Errors: forbidden.
func (s *Service) Queue(ctx context.Context, p *auth.Principal) ([]Intervention, error) {
	fund, err := staff(p, auth.RoleFundApprover, auth.RoleFundManager)
	if err != nil {
		return nil, err
	}
	out := []Intervention{}
	err = sqlx.SelectContext(ctx, s.db, &out, `SELECT `+interventionCols+interventionFrom+`
		WHERE i.fund_id = $1 AND (($2 AND i.status = 'proposed') OR ($3 AND i.status = 'approved'))
		ORDER BY i.proposed_at`, fund, p.Has(auth.RoleFundApprover), p.Has(auth.RoleFundManager))
	return out, apperr.Wrap(err, "listing queue")
}

// approvalsNeeded is 2 when the case's interventions of the last 12
// months (this one included, rejected and cancelled ones not) add up to
// more than the fund's threshold, else 1: splitting a grant in two does
// not avoid the second approver.
func approvalsNeeded(ctx context.Context, tx *sqlx.Tx, fund, caseID uuid.UUID) (int, error) {
	var over bool
	err := tx.GetContext(ctx, &over, `SELECT coalesce(sum(i.amount - i.released), 0) > f.approval_threshold
		FROM funds f LEFT JOIN fund_interventions i ON i.case_id = $2 AND i.status NOT IN ('rejected', 'cancelled')
		  AND i.proposed_at > now() - interval '12 months'
		WHERE f.organisation_id = $1 GROUP BY f.approval_threshold`, fund, caseID)
	if err != nil {
		return 0, apperr.Wrap(err, "computing approvals needed")
	}
	if over {
		return 2, nil
	}
	return 1, nil
}

// Approve records the caller's approval (fund approver). The proposer
// never approves their own proposal; above the threshold (the case's
// last 12 months) two different approvers are needed. The approval that
// completes them commits the money: a ledger posting from the envelope to
// the intervention's own commitment, within the envelope's balance and
// its yearly cap; concurrent approvals on one envelope queue on its row.
// Errors: forbidden (proposer, or not an approver), not_found, conflict
// (already decided, or already approved by the caller),
// insufficient_funds (envelope or cap: details say what is available).
func (s *Service) Approve(ctx context.Context, p *auth.Principal, id uuid.UUID) (Intervention, error) {
	fund, err := staff(p, auth.RoleFundApprover)
	if err != nil {
		return Intervention{}, err
	}
	err = db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var in struct {
			Case     uuid.UUID `db:"case_id"`
			Envelope uuid.UUID `db:"envelope_id"`
			Theme    Theme     `db:"theme"`
			Amount   int64     `db:"amount"`
			Status   string    `db:"status"`
			Proposer uuid.UUID `db:"proposed_by"`
		}
		// The envelope row first, then the intervention: every approval on
		// an envelope takes its lock in the same order.
		err := tx.GetContext(ctx, &in, `SELECT i.case_id, i.envelope_id, e.theme, i.amount, i.status, i.proposed_by
			FROM fund_interventions i JOIN fund_envelopes e ON e.id = i.envelope_id WHERE i.id = $1 AND i.fund_id = $2`, id, fund)
		if err != nil {
			return db.MapError(err, "intervention")
		}
		if in.Proposer == p.UserID {
			return apperr.New(apperr.Forbidden, "the proposer cannot approve their own proposal")
		}
		var yearlyCap int64
		if err := tx.GetContext(ctx, &yearlyCap, `SELECT yearly_cap FROM fund_envelopes WHERE id = $1 FOR UPDATE`, in.Envelope); err != nil {
			return apperr.Wrap(err, "locking envelope")
		}
		if err := tx.GetContext(ctx, &in.Status, `SELECT status FROM fund_interventions WHERE id = $1 FOR UPDATE`, id); err != nil {
			return apperr.Wrap(err, "locking intervention")
		}
		if in.Status != StatusProposed {
			return apperr.New(apperr.Conflict, "the intervention is already %s", in.Status).With("status", in.Status)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO fund_approvals (intervention_id, approver_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, id, p.UserID)
		if err != nil {
			return apperr.Wrap(err, "recording approval")
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.New(apperr.Conflict, "you have already approved this intervention; a second approver is needed")
		}
		needed, err := approvalsNeeded(ctx, tx, fund, in.Case)
		if err != nil {
			return err
		}
		var have int
		if err := tx.GetContext(ctx, &have, `SELECT count(*) FROM fund_approvals WHERE intervention_id = $1`, id); err != nil {
			return apperr.Wrap(err, "counting approvals")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE fund_interventions SET approvals_needed = $2 WHERE id = $1`, id, needed); err != nil {
			return apperr.Wrap(err, "recording approvals needed")
		}
		if have < needed {
			return caseEvent(ctx, tx, in.Case, p, "intervention_approval", map[string]any{"intervention": id, "approvals": have, "needed": needed})
		}
		if err := s.commit(ctx, tx, fund, id, in.Envelope, in.Theme, in.Amount, yearlyCap); err != nil {
			return err
		}
		if err := caseEvent(ctx, tx, in.Case, p, "intervention_approved", map[string]any{"intervention": id, "amount": in.Amount}); err != nil {
			return err
		}
		return s.orgs.RecordEvent(ctx, tx, "fund_intervention_approved", p, fund, map[string]any{"intervention": id, "amount": in.Amount})
	})
	if err != nil {
		return Intervention{}, err
	}
	return s.intervention(ctx, s.db, fund, id)
}

// commit moves amount from the envelope to the intervention's commitment,
// within the yearly cap (checked under the envelope's row lock).
func (s *Service) commit(ctx context.Context, tx *sqlx.Tx, fund, id, envelope uuid.UUID, theme Theme, amount, yearlyCap int64) error {
	from, to := yearBounds(s.now())
	var used int64
	if err := tx.GetContext(ctx, &used, `SELECT coalesce(sum(amount - released), 0) FROM fund_interventions
		WHERE envelope_id = $1 AND approved_at >= $2 AND approved_at < $3`, envelope, from, to); err != nil {
		return apperr.Wrap(err, "reading the year's commitments")
	}
	if used+amount > yearlyCap {
		return apperr.New(apperr.InsufficientFunds, "the envelope's yearly cap allows %d more cents this year", max(0, yearlyCap-used)).
			With("account", envelopePath(fund, theme)).With("available", max(0, yearlyCap-used)).With("required", amount).With("limit", "yearly_cap")
	}
	committed := "fund:" + fund.String() + ":committed:" + id.String()
	if _, err := ledger.CreateAccount(ctx, tx, fundAccount(committed)); err != nil {
		return err
	}
	res, err := ledger.Post(ctx, tx, ledger.Request{Key: "fund.approve:" + id.String(), Kind: "fund.commitment", Reference: id.String(),
		Postings: []ledger.Posting{{From: envelopePath(fund, theme), To: committed, Amount: amount}}})
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE fund_interventions SET status = 'approved', approved_at = now(), approval_tx = $2 WHERE id = $1`, id, res.TxID)
	return apperr.Wrap(err, "approving intervention")
}

// Reject rejects a proposal with a reason (fund approver, not the
// proposer). Errors: forbidden, invalid (reason), not_found, conflict
// (already decided).
func (s *Service) Reject(ctx context.Context, p *auth.Principal, id uuid.UUID, reason string) (Intervention, error) {
	fund, err := staff(p, auth.RoleFundApprover)
	if err != nil {
		return Intervention{}, err
	}
	if reason, err = requireReason(reason, 1000, "a rejection needs a reason (up to 1000 characters)"); err != nil {
		return Intervention{}, err
	}
	err = db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var in struct {
			Case     uuid.UUID `db:"case_id"`
			Status   string    `db:"status"`
			Proposer uuid.UUID `db:"proposed_by"`
		}
		if err := tx.GetContext(ctx, &in, `SELECT case_id, status, proposed_by FROM fund_interventions WHERE id = $1 AND fund_id = $2 FOR UPDATE`,
			id, fund); err != nil {
			return db.MapError(err, "intervention")
		}
		if in.Proposer == p.UserID {
			return apperr.New(apperr.Forbidden, "the proposer cannot decide their own proposal")
		}
		if in.Status != StatusProposed {
			return apperr.New(apperr.Conflict, "the intervention is already %s", in.Status).With("status", in.Status)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE fund_interventions SET status = 'rejected', rejected_by = $2, rejected_reason = $3,
			closed_at = now() WHERE id = $1`, id, p.UserID, reason); err != nil {
			return apperr.Wrap(err, "rejecting")
		}
		if err := caseEvent(ctx, tx, in.Case, p, "intervention_rejected", map[string]any{"intervention": id, "reason": reason}); err != nil {
			return err
		}
		return s.orgs.RecordEvent(ctx, tx, "fund_intervention_rejected", p, fund, map[string]any{"intervention": id})
	})
	if err != nil {
		return Intervention{}, err
	}
	return s.intervention(ctx, s.db, fund, id)
}
