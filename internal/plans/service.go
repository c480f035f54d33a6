package plans

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/ledger"
)

// Service is the plans domain.
type Service struct {
	db      *sqlx.DB
	baseURL string
	// chunk is how many employees one allocation step credits.
	chunk int
	// runNow, when set (by the app), makes Allocate start crediting at once
	// in the background of the process that took the request, instead of
	// waiting for the worker's next poll; the worker still resumes any
	// allocation this process did not finish.
	runNow bool
	// fundPool names the inclusion fund's pool account donated credits
	// go to: the one redemptions credit, so the fund sees both inflows.
	fundPool func(context.Context) (string, error)
	// afterChunk, when set (tests), runs inside each chunk's transaction
	// after its credits are posted; an error rolls the chunk back, as a
	// crash would.
	afterChunk func(allocation uuid.UUID, credited int) error
}

// New returns the service. baseURL is where people reach the app (links
// in mails).
func New(dbx *sqlx.DB, baseURL string) *Service {
	return &Service{db: dbx, baseURL: baseURL, chunk: 1000}
}

// SetFundPool names the inclusion fund's pool account that expired
// credits of donating plans go to.
func (s *Service) SetFundPool(path string) {
	s.fundPool = func(context.Context) (string, error) { return path, nil }
}

// ResolveFundPool makes donations go wherever resolve says at the time of
// the sweep: the app passes the redemption service's choice of pool, so a
// fund organisation created after start receives both inflows.
func (s *Service) ResolveFundPool(resolve func(context.Context) (string, error)) {
	s.fundPool = resolve
}

// RunAllocationsAtOnce makes Allocate start crediting right away, in the
// background (the app does; tests of the service run allocations
// themselves).
func (s *Service) RunAllocationsAtOnce() { s.runNow = true }

// SetChunk sets how many employees one allocation step credits (tests).
func (s *Service) SetChunk(n int) { s.chunk = max(n, 1) }

// SetAfterChunk installs a hook run inside each allocation chunk's
// transaction (tests simulate crashes with it).
func (s *Service) SetAfterChunk(f func(allocation uuid.UUID, credited int) error) { s.afterChunk = f }

// rome is the time zone plan dates are read in: a deadline of 31/12 ends
// at midnight in Italy.
var rome = func() *time.Location {
	l, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		return time.FixedZone("CET", 3600)
	}
	return l
}()

// endOfDay is the instant a plan date ends: the next midnight in Italy.
func endOfDay(d time.Time) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, rome)
}

// today is the current date in Italy.
func today() time.Time {
	n := time.Now().In(rome)
	return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC)
}

// The ledger accounts this domain posts to.
func budgetAccount(company uuid.UUID) string { return fmt.Sprintf("company:%s:budget", company) }
func walletAccount(user uuid.UUID) string    { return fmt.Sprintf("employee:%s:wallet", user) }

// allocatingAccount is where an allocation's hold points: money reserved
// for credits still to be made. Holds on it are always voided, never
// captured, so its posted balance stays zero.
func allocatingAccount(company uuid.UUID) string {
	return fmt.Sprintf("company:%s:allocating", company)
}

var zero = int64(0)

// EnsureBudget creates the company's budget account when it is missing
// (the funding domain creates it on the first top-up; the spec is the
// chart's, so whoever comes first, the other finds the same account).
func EnsureBudget(ctx context.Context, ext sqlx.ExtContext, company uuid.UUID) error {
	_, err := ledger.CreateAccount(ctx, ext, ledger.AccountSpec{Path: budgetAccount(company), Kind: ledger.Liability, Floor: &zero})
	return err
}

func ensureCompanyAccounts(ctx context.Context, ext sqlx.ExtContext, company uuid.UUID) error {
	if err := EnsureBudget(ctx, ext, company); err != nil {
		return err
	}
	_, err := ledger.CreateAccount(ctx, ext, ledger.AccountSpec{Path: allocatingAccount(company), Kind: ledger.Liability, Floor: &zero})
	return err
}

// ensureWallet creates an employee's wallet: a liability with lots, floor 0.
func ensureWallet(ctx context.Context, ext sqlx.ExtContext, user uuid.UUID) error {
	_, err := ledger.CreateAccount(ctx, ext, ledger.AccountSpec{Path: walletAccount(user), Kind: ledger.Liability, Floor: &zero, Lots: true})
	return err
}

// companyOf returns the company p administers, or forbidden.
func companyOf(p *auth.Principal) (uuid.UUID, error) {
	if p == nil || p.OrgKind != auth.OrgCompany || !p.Has(auth.RoleCompanyAdmin) {
		return uuid.Nil, apperr.New(apperr.Forbidden, "only a company's HR administrators manage its plans")
	}
	return p.OrgID, nil
}

func invalid(field, format string, args ...any) *apperr.Error {
	return apperr.New(apperr.Invalid, format, args...).With("field", field)
}
