// Package funding is how companies put money on the platform and how it
// leaves again: top-ups by card (Stripe Checkout, driven only by verified
// webhook events through the payments inbox) and by bank transfer (a
// platform admin records what the bank received), what Stripe takes back
// (refunds, disputes) and the open items a shortfall leaves, receipts,
// reconciliation against Stripe and the bank, and the return of the
// unallocated budget at the end of a contract.
//
// Money is only in the ledger: a company's unallocated budget is the
// account company:{id}:budget (BudgetAccount). Every posting's idempotency
// key is made from our own ids ("topup:{id}:credit" …), never from a
// Stripe id, so whatever Stripe sends, in any order and any number of
// times, a top-up is credited once.
package funding

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/reciproca/reciproca/internal/ledger"
	"github.com/reciproca/reciproca/internal/payments"
)

// The platform's ledger accounts funding posts to (docs/ledger.md).
const (
	StripeAccount     = "platform:stripe"
	BankAccount       = "platform:bank"
	StripeFeesAccount = "platform:stripe-fees"
	LossAccount       = "platform:loss"
)

// BudgetAccount is the ledger account of a company's unallocated budget.
func BudgetAccount(company uuid.UUID) string { return "company:" + company.String() + ":budget" }

// ReceivableAccount is what a company owes the platform: the part of a
// refund or a withdrawn dispute its budget no longer covered.
func ReceivableAccount(company uuid.UUID) string {
	return "company:" + company.String() + ":receivable"
}

// Stripe is the part of Stripe funding calls (internal/payments).
type Stripe interface {
	CreateCheckoutSession(ctx context.Context, r payments.CheckoutRequest) (payments.CheckoutSession, error)
	PaymentFee(ctx context.Context, paymentIntent string) (fee int64, balanceTx string, err error)
	BalanceTransactions(ctx context.Context, from, to time.Time, limit int) ([]payments.BalanceTransaction, error)
}

// Settings are the rules the operator configures.
type Settings struct {
	// BaseURL is where people reach the web app (Stripe sends the payer back there).
	BaseURL string
	// Card and bank top-up limits, in cents, inclusive.
	CardMin, CardMax int64
	BankMin, BankMax int64
	// ConfirmAbove: a bank receipt above this many cents counts only once
	// a second platform admin confirms it.
	ConfirmAbove int64
	// The platform's bank account, shown to companies paying by transfer.
	IBAN, BIC, Beneficiary string
	// CheckoutTTL is how long an unpaid Checkout Session stays open.
	CheckoutTTL time.Duration
}

// DefaultSettings are the limits when the operator sets none.
func DefaultSettings(baseURL string) Settings {
	return Settings{BaseURL: baseURL, CardMin: 10_00, CardMax: 25_000_00, BankMin: 100_00, BankMax: 1_000_000_00,
		ConfirmAbove: 10_000_00, IBAN: "IT60X0542811101000000123456", BIC: "BPMOIT22XXX",
		Beneficiary: "Reciproca S.r.l. Impresa Sociale", CheckoutTTL: time.Hour}
}

// Service is company funding.
type Service struct {
	db       *sqlx.DB
	stripe   Stripe
	settings Settings
	// bankMoves are the platform's other bank moves, for reconciliation.
	bankMoves BankMoves
}

// New returns the funding service.
func New(dbx *sqlx.DB, stripe Stripe, s Settings) *Service {
	if s.CheckoutTTL == 0 {
		s.CheckoutTTL = time.Hour
	}
	return &Service{db: dbx, stripe: stripe, settings: s}
}

// Settings returns the rules in force (limits, the platform's IBAN).
func (s *Service) Settings() Settings { return s.settings }

var zero int64

// platformAccounts are opened on first use; creating an existing account
// with the same spec changes nothing.
var platformAccounts = []ledger.AccountSpec{
	{Path: StripeAccount, Kind: ledger.Asset},
	{Path: BankAccount, Kind: ledger.Asset},
	{Path: StripeFeesAccount, Kind: ledger.Expense},
	{Path: LossAccount, Kind: ledger.Expense},
}

// EnsureAccounts opens the platform's funding accounts and the company's
// budget and receivable, in ext (safe to repeat). The plans domain calls
// it before allocating from a budget that was never topped up.
func EnsureAccounts(ctx context.Context, ext sqlx.ExtContext, company uuid.UUID) error {
	specs := append([]ledger.AccountSpec{
		{Path: BudgetAccount(company), Kind: ledger.Liability, Floor: &zero},
		{Path: ReceivableAccount(company), Kind: ledger.Asset},
	}, platformAccounts...)
	paths := make([]string, len(specs))
	for i, spec := range specs {
		paths[i] = spec.Path
	}
	// One read in the usual case, where they all exist.
	var have []string
	if err := sqlx.SelectContext(ctx, ext, &have, `SELECT path FROM ledger_accounts WHERE path = ANY($1)`, pq.Array(paths)); err != nil {
		return err
	}
	for _, spec := range specs {
		if slices.Contains(have, spec.Path) {
			continue
		}
		if _, err := ledger.CreateAccount(ctx, ext, spec); err != nil {
			return err
		}
	}
	return nil
}
