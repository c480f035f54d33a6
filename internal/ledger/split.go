package ledger

import (
	"context"
	"regexp"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/db"
)

// Parties a split's rounding remainder can go to.
const (
	ToProvider = "provider"
	ToFund     = "fund"
	ToFee      = "fee"
)

// SplitPolicy divides a redemption's gross amount: FundBps and FeeBps in
// basis points (1/100 of a percent), the provider gets the rest, and the
// rounding remainder (under 3 cents) goes to RemainderTo. Policies are
// versioned by name: the version valid at a transaction's effective time
// applies and is recorded on the transaction.
type SplitPolicy struct {
	ID          int64     `json:"id" db:"id"`
	Name        string    `json:"name" db:"name"`
	Version     int       `json:"version" db:"version"`
	ValidFrom   time.Time `json:"valid_from" db:"valid_from"`
	FundBps     int       `json:"fund_bps" db:"fund_bps"`
	FeeBps      int       `json:"fee_bps" db:"fee_bps"`
	RemainderTo string    `json:"remainder_to" db:"remainder_to"`
}

var policyNameRe = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)

// Validate reports the first problem with p as an invalid error.
func (p SplitPolicy) Validate() error {
	switch {
	case !policyNameRe.MatchString(p.Name):
		return invalid("name", "policy name must be 1-64 lower-case letters, digits, _ or -")
	case p.FundBps < 0 || p.FeeBps < 0 || p.FundBps+p.FeeBps > 10000:
		return invalid("fund_bps", "fund and fee shares must be between 0 and 10000 basis points together")
	case p.RemainderTo != ToProvider && p.RemainderTo != ToFund && p.RemainderTo != ToFee:
		return invalid("remainder_to", "the remainder goes to provider, fund or fee")
	case p.ValidFrom.IsZero():
		return invalid("valid_from", "a policy version needs the time it is valid from")
	}
	return nil
}

// Shares are the three parts of a split; they sum to the gross amount.
type Shares struct {
	Provider int64 `json:"provider"`
	Fund     int64 `json:"fund"`
	Fee      int64 `json:"fee"`
}

// SplitAmount divides gross (0 ≤ gross ≤ MaxAmount) by p: each share is
// rounded down, and what rounding left over goes to p.RemainderTo. The SQL
// function ledger_split_parts does the same arithmetic on the write path.
func SplitAmount(gross int64, p SplitPolicy) Shares {
	s := Shares{
		Fund:     gross * int64(p.FundBps) / 10000,
		Fee:      gross * int64(p.FeeBps) / 10000,
		Provider: gross * int64(10000-p.FundBps-p.FeeBps) / 10000,
	}
	rem := gross - s.Provider - s.Fund - s.Fee
	switch p.RemainderTo {
	case ToFund:
		s.Fund += rem
	case ToFee:
		s.Fee += rem
	default:
		s.Provider += rem
	}
	return s
}

// CreatePolicy adds the next version of a split policy, valid from
// p.ValidFrom. Versions are append-only: an earlier version keeps applying
// to transactions effective before the new one's start.
//
// Errors: invalid, conflict (a version of this name starts at that time).
func CreatePolicy(ctx context.Context, ext sqlx.ExtContext, p SplitPolicy) (SplitPolicy, error) {
	if err := p.Validate(); err != nil {
		return SplitPolicy{}, err
	}
	var out SplitPolicy
	err := sqlx.GetContext(ctx, ext, &out, `
		INSERT INTO ledger_split_policies (name, version, valid_from, fund_bps, fee_bps, remainder_to)
		SELECT $1, coalesce(max(version), 0) + 1, $2, $3, $4, $5 FROM ledger_split_policies WHERE name = $1
		RETURNING id, name, version, valid_from, fund_bps, fee_bps, remainder_to`,
		p.Name, p.ValidFrom, p.FundBps, p.FeeBps, p.RemainderTo)
	return out, db.MapError(err, "split policy version")
}

// PolicyAt returns the version of a policy in force at a time.
//
// Errors: not_found.
func PolicyAt(ctx context.Context, q sqlx.QueryerContext, name string, at time.Time) (SplitPolicy, error) {
	var out SplitPolicy
	err := sqlx.GetContext(ctx, q, &out, `
		SELECT id, name, version, valid_from, fund_bps, fee_bps, remainder_to FROM ledger_split_policies
		WHERE name = $1 AND valid_from <= $2 ORDER BY valid_from DESC LIMIT 1`, name, at)
	return out, db.MapError(err, "split policy "+name)
}
