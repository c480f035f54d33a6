// Package redemption is where an employee spends welfare credits: booking
// a service (a ledger hold on the wallet, a place in a slot), the
// nominative voucher with its code and QR, validation by the provider (the
// hold captured and split between provider, inclusion fund and platform),
// cancellation, no-shows, expiry and refunds (ledger reversals).
//
// Money never lives here. A voucher points at its ledger hold and at the
// transactions that resolved it; every movement goes through
// internal/ledger inside the same database transaction as the voucher's
// change, so the two never disagree.
//
// Accounts (docs/ledger.md): the employee's wallet employee:{user}:wallet
// (lots with expiry and categories, filled by the plans domain), the
// provider's payable provider:{organisation}:payable (created here at the
// first booking), the fund pool and platform:fees (the Config's).
package redemption

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"sync/atomic"
	"time"
	_ "time/tzdata" // Italian days without depending on the host's zone files

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/fund"
	"github.com/reciproca/reciproca/internal/ledger"
)

// Config is what redemption needs to know about the platform.
type Config struct {
	// BaseURL is where people reach the app: the voucher's QR and mails
	// link to it.
	BaseURL string
	// FundPool is the ledger account of the inclusion fund's pool that
	// every validation's fund share (and a provider's pledge) credits.
	// Empty: the pool of the (first) fund organisation, or DefaultFundPool
	// while there is none.
	FundPool string
	// Fees is the platform fee account.
	Fees string
	// Policy names the split policy whose version in force applies.
	Policy string
	// GraceDays after the service's day during which a provider may still
	// validate (counters that record later); then the voucher expires.
	GraceDays int
	// CancelCutoff is how long before a slot starts the employee may
	// still cancel (the catalogue has no per-offering cut-off yet).
	CancelCutoff time.Duration
	// OnRequestDays is how long a voucher for an offering without slots
	// (arranged with the provider) stays valid from the booking day.
	OnRequestDays int
	// Transfers makes the Stripe transfers of payouts (nil: none are made).
	Transfers Transfers
	// StripeFees lists Stripe's fees on the platform's balance, which the
	// worker books as Connect fees (nil: none are booked).
	StripeFees StripeFees
	// Bank is the platform's account SEPA payouts leave from.
	Bank Debtor
	// ReclaimAfter is how long a refund of a voucher already paid out
	// waits for payouts to net it before a transfer reversal takes it.
	ReclaimAfter time.Duration
	// SkipBalanceCheck skips checking the platform's Stripe balance before
	// a transfer: stripe-mock always answers a zero balance.
	SkipBalanceCheck bool
	// MinPayoutCents is the smallest payout; PayoutEvery how often a
	// provider owed at least that is paid without asking.
	MinPayoutCents int64
	PayoutEvery    time.Duration
	// Now is the clock (tests move it).
	Now func() time.Time
}

// Defaults of Config.
const (
	DefaultFundPool      = "fund:inclusion:pool"
	DefaultFees          = "platform:fees"
	DefaultPolicy        = "standard"
	DefaultGraceDays     = 7
	DefaultCancelCutoff  = 24 * time.Hour
	DefaultOnRequestDays = 90
	DefaultMinPayout     = 50_00
	DefaultPayoutEvery   = 7 * 24 * time.Hour
)

func (c Config) withDefaults() Config {
	if c.Fees == "" {
		c.Fees = DefaultFees
	}
	if c.Policy == "" {
		c.Policy = DefaultPolicy
	}
	if c.GraceDays == 0 {
		c.GraceDays = DefaultGraceDays
	}
	if c.CancelCutoff == 0 {
		c.CancelCutoff = DefaultCancelCutoff
	}
	if c.OnRequestDays == 0 {
		c.OnRequestDays = DefaultOnRequestDays
	}
	if c.MinPayoutCents == 0 {
		c.MinPayoutCents = DefaultMinPayout
	}
	if c.PayoutEvery == 0 {
		c.PayoutEvery = DefaultPayoutEvery
	}
	if c.ReclaimAfter == 0 {
		c.ReclaimAfter = DefaultReclaimAfter
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Service is the redemption use cases.
type Service struct {
	db  *sqlx.DB
	cfg Config
	// pool is the fund pool's path once known and its accounts exist
	// (they are created on first use, idempotently).
	platformMu sync.Mutex
	pool       string
	// payables are the providers whose payable account a committed
	// booking saw exist: later bookings skip creating it.
	payables sync.Map
	// stmts are the hot path's prepared statements.
	stmts *db.Statements
	// alone counts the bookings and validations committed by one
	// statement of their own (bookAlone, captureAlone).
	alone struct{ books, captures atomic.Int64 }
}

// New returns the service.
func New(dbx *sqlx.DB, cfg Config) *Service {
	return &Service{db: dbx, cfg: cfg.withDefaults(), stmts: db.NewStatements(dbx)}
}

// Config returns the configuration in force (defaults filled in).
func (s *Service) Config() Config { return s.cfg }

// rome is Italian time: a voucher's day is judged in it.
var rome = func() *time.Location {
	l, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		panic(err)
	}
	return l
}()

// startOfDay is the first instant of t's day in Italian time.
func startOfDay(t time.Time) time.Time {
	y, m, d := t.In(rome).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, rome)
}

// WalletPath is the ledger account of an employee's credits.
func WalletPath(user uuid.UUID) string { return "employee:" + user.String() + ":wallet" }

// PayablePath is the ledger account of what is owed to a provider.
func PayablePath(provider uuid.UUID) string { return "provider:" + provider.String() + ":payable" }

var zero int64

// PayableSpec describes a provider's payable account.
func PayableSpec(provider uuid.UUID) ledger.AccountSpec {
	return ledger.AccountSpec{Path: PayablePath(provider), Kind: ledger.Liability, Floor: &zero}
}

// WalletSpec describes an employee's wallet (the plans domain creates it
// when it allocates; tests and demo data use it too).
func WalletSpec(user uuid.UUID) ledger.AccountSpec {
	return ledger.AccountSpec{Path: WalletPath(user), Kind: ledger.Liability, Floor: &zero, Lots: true}
}

// PlatformAccounts are the accounts every validation credits besides the
// provider and the fund pool: the fees (sharded: hot) and platform:loss,
// which a refund the fund can no longer cover is written off to.
func (c Config) PlatformAccounts() []ledger.AccountSpec {
	return []ledger.AccountSpec{
		{Path: c.Fees, Kind: ledger.Revenue, Shards: 16},
		{Path: "platform:loss", Kind: ledger.Expense},
	}
}

// poolSpec is a fund pool's account, as the fund domain creates it.
func poolSpec(path string) ledger.AccountSpec {
	spec := fund.PoolSpec(uuid.Nil)
	spec.Path = path
	return spec
}

// FundPool returns the pool validations credit, creating it and the
// platform accounts the first time.
func (s *Service) FundPool(ctx context.Context) (string, error) {
	s.platformMu.Lock()
	defer s.platformMu.Unlock()
	if s.pool != "" {
		return s.pool, nil
	}
	path, settled := s.cfg.FundPool, s.cfg.FundPool != ""
	if !settled {
		var org uuid.UUID
		err := s.db.GetContext(ctx, &org, `SELECT id FROM organisations WHERE kind = 'fund' AND status = 'active'
			ORDER BY created_at, id LIMIT 1`)
		switch {
		case err == nil:
			path, settled = fund.PoolSpec(org).Path, true
		case errors.Is(err, sql.ErrNoRows):
			path = DefaultFundPool // until a fund exists
		default:
			return "", err
		}
	}
	for _, spec := range append(s.cfg.PlatformAccounts(), poolSpec(path)) {
		if _, err := ledger.CreateAccount(ctx, s.db, spec); err != nil {
			return "", err
		}
	}
	if settled {
		s.pool = path
	}
	return path, nil
}
