package funding

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"
)

// Channel is how a top-up's money arrives.
type Channel string

// The channels.
const (
	Card Channel = "card"
	Bank Channel = "bank"
)

// Status is where a top-up stands. A card top-up moves one way only:
// pending (recorded, no Checkout Session yet) → open (the session exists)
// → processing (an asynchronous payment method) → paid | failed | expired.
// A bank top-up stays open; its receipts say how much arrived.
type Status string

// The statuses.
const (
	Pending    Status = "pending"
	Open       Status = "open"
	Processing Status = "processing"
	Paid       Status = "paid"
	Failed     Status = "failed"
	Expired    Status = "expired"
)

// rank orders the statuses: a webhook moves a top-up only forwards.
func (s Status) rank() int {
	switch s {
	case Pending:
		return 0
	case Open:
		return 1
	case Processing:
		return 2
	}
	return 3
}

// TopUp is a company's request to put money on its budget.
type TopUp struct {
	ID        uuid.UUID `json:"id" db:"id"`
	CompanyID uuid.UUID `json:"company_id" db:"company_id"`
	Company   string    `json:"company" db:"company"`
	Channel   Channel   `json:"channel" db:"channel"`
	Amount    int64     `json:"amount" db:"amount"`
	Status    Status    `json:"status" db:"status"`
	// Credited is what reached the budget (bank: the credited receipts).
	Credited int64 `json:"credited" db:"credited"`
	// Refunded is what Stripe refunded; DisputeAmount what a dispute took.
	Refunded       int64   `json:"refunded" db:"refunded"`
	Fee            *int64  `json:"fee" db:"fee"`
	DisputeState   string  `json:"dispute_state" db:"dispute_state"`
	DisputeAmount  int64   `json:"dispute_amount" db:"dispute_amount"`
	DisputeOutcome *string `json:"dispute_outcome" db:"dispute_outcome"`
	CheckoutURL    *string `json:"checkout_url" db:"checkout_url"`
	// Reference is the RF creditor reference a bank transfer must carry.
	Reference     *string    `json:"reference" db:"reference"`
	PaymentIntent *string    `json:"payment_intent" db:"payment_intent"`
	PaidAt        *time.Time `json:"paid_at" db:"paid_at"`
	CreatedAt     time.Time  `json:"created_at" db:"created_at"`
	StripeKey     uuid.UUID  `json:"-" db:"stripe_key"`
	Session       *string    `json:"-" db:"checkout_session"`
}

// Settled reports whether nothing more is expected to happen by itself
// (the pending page stops refreshing).
func (t TopUp) Settled() bool { return t.Channel == Bank || t.Status.rank() == 3 }

// Outstanding is, for a bank top-up, what is still to arrive (negative:
// more arrived than announced).
func (t TopUp) Outstanding() int64 { return t.Amount - t.Credited }

// Overpaid is, for a bank top-up, what arrived beyond the announced amount.
func (t TopUp) Overpaid() int64 { return max(t.Credited-t.Amount, 0) }

const topupCols = `t.id, t.company_id, o.name AS company, t.channel, t.amount, t.status, t.credited, t.refunded, t.fee,
	t.dispute_state, t.dispute_amount, t.dispute_outcome, t.checkout_url, t.reference, t.payment_intent, t.paid_at,
	t.created_at, t.stripe_key, t.checkout_session`

const topupFrom = ` FROM funding_topups t JOIN organisations o ON o.id = t.company_id `

// TopUpRequest is what a company admin asks for.
type TopUpRequest struct {
	Channel Channel `json:"channel"`
	Amount  int64   `json:"amount"`
}

// Validate checks the amount against the channel's limits.
func (s *Service) validate(r TopUpRequest) error {
	var lo, hi int64
	var channel error
	switch r.Channel {
	case Card:
		lo, hi = s.settings.CardMin, s.settings.CardMax
	case Bank:
		lo, hi = s.settings.BankMin, s.settings.BankMax
	default:
		channel = invalidField("channel", "a top-up is paid by card or by bank transfer")
	}
	var amount error
	switch {
	case r.Amount <= 0:
		amount = invalidField("amount_cents", "the amount must be more than zero").With("min", lo).With("max", hi)
	case channel == nil && (r.Amount < lo || r.Amount > hi):
		amount = invalidField("amount_cents", "the amount must be between %s and %s", euro(lo), euro(hi)).With("min", lo).With("max", hi)
	}
	// The limits depend on the channel: without one only a missing amount
	// is wrong for sure.
	return apperr.AllInvalid(channel, amount)
}

// RequestTopUp records a company admin's top-up and, for a card, creates
// its Checkout Session: our record first (committed, with the key Stripe
// will be asked with), then Stripe, outside any transaction, then the
// session on our record. A retry with the same idempotency key finds the
// same record and, once its session is recorded, does not call Stripe
// again; after a crash between the two it asks Stripe again with the same
// Stripe key, which answers the same session.
//
// Errors: forbidden, invalid (field amount_cents or channel), conflict
// (key reused), unavailable (Stripe: the record stays pending; retrying
// with the same key goes on where it stopped).
func (s *Service) RequestTopUp(ctx context.Context, p *auth.Principal, r TopUpRequest, key string) (TopUp, error) {
	if err := companyAdmin(p); err != nil {
		return TopUp{}, err
	}
	if err := s.validate(r); err != nil {
		return TopUp{}, err
	}
	var id uuid.UUID
	_, err := db.Idempotent(ctx, s.db, db.Scope{Caller: p.UserID, Operation: "funding.request_topup"}, key, r, &id,
		func(tx *sqlx.Tx) error {
			id = uuid.New()
			var ref *string
			status := Pending
			if r.Channel == Bank {
				rf := CreditorReference(id)
				ref, status = &rf, Open
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO funding_topups (id, company_id, channel, amount, status, requested_by, reference)
				VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, p.OrgID, r.Channel, r.Amount, status, p.UserID, ref)
			if err != nil {
				return db.MapError(err, "top-up")
			}
			return EnsureAccounts(ctx, tx, p.OrgID)
		})
	if err != nil {
		return TopUp{}, err
	}
	t, err := s.topUp(ctx, s.db, id)
	if err != nil || t.Channel != Card || t.Session != nil {
		return t, err
	}
	return s.startCheckout(ctx, t, p.Email)
}

// TopUp returns one top-up: the company's own, or any for a platform admin.
//
// Errors: not_found (also another company's).
func (s *Service) TopUp(ctx context.Context, p *auth.Principal, id uuid.UUID) (TopUp, error) {
	t, err := s.topUp(ctx, s.db, id)
	if err != nil {
		return TopUp{}, err
	}
	if _, err := scopeCompany(p, t.CompanyID); err != nil {
		return TopUp{}, apperr.New(apperr.NotFound, "top-up not found")
	}
	return t, nil
}

func (s *Service) topUp(ctx context.Context, q sqlx.QueryerContext, id uuid.UUID) (TopUp, error) {
	var t TopUp
	err := sqlx.GetContext(ctx, q, &t, `SELECT `+topupCols+topupFrom+`WHERE t.id = $1`, id)
	return t, db.MapError(err, "top-up")
}

// TopUps lists a company's top-ups, newest first (limit at most 200).
// company uuid.Nil lists every company's, for a platform admin.
func (s *Service) TopUps(ctx context.Context, p *auth.Principal, company uuid.UUID, limit int) ([]TopUp, error) {
	company, err := scopeCompany(p, company)
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 200 {
		limit = 200
	}
	out := []TopUp{}
	err = s.db.SelectContext(ctx, &out, `SELECT `+topupCols+topupFrom+`
		WHERE ($1 = '00000000-0000-0000-0000-000000000000'::uuid OR t.company_id = $1)
		ORDER BY t.created_at DESC LIMIT $2`, company, limit)
	return out, apperr.Wrap(err, "listing top-ups")
}

// companyAdmin refuses anyone but a company's admin.
func companyAdmin(p *auth.Principal) error {
	if p == nil {
		return apperr.New(apperr.Unauthorized, "sign in first")
	}
	if p.OrgKind != auth.OrgCompany || !p.Has(auth.RoleCompanyAdmin) {
		return apperr.New(apperr.Forbidden, "only a company's administrators can fund its budget")
	}
	return nil
}

// scopeCompany is the company a caller may read: a company admin's own
// (whatever they asked for), or the one a platform admin names (uuid.Nil:
// all).
func scopeCompany(p *auth.Principal, asked uuid.UUID) (uuid.UUID, error) {
	switch {
	case p == nil:
		return uuid.Nil, apperr.New(apperr.Unauthorized, "sign in first")
	case p.Has(auth.RolePlatformAdmin) && p.OrgKind == auth.OrgPlatform:
		return asked, nil
	case p.OrgKind == auth.OrgCompany && p.Has(auth.RoleCompanyAdmin):
		if asked != uuid.Nil && asked != p.OrgID {
			return uuid.Nil, apperr.New(apperr.NotFound, "company not found")
		}
		return p.OrgID, nil
	}
	return uuid.Nil, apperr.New(apperr.Forbidden, "only company or platform administrators see budgets")
}

func invalidField(field, format string, args ...any) *apperr.Error {
	return apperr.New(apperr.Invalid, format, args...).With("field", field)
}

// problem is the invalid error for field when bad, else nil: a form's
// checks, joined by apperr.AllInvalid, name every field at fault at once.
func problem(bad bool, field, format string, args ...any) error {
	if !bad {
		return nil
	}
	return invalidField(field, format, args...)
}
