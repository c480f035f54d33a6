package seed

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/ledger"
	"github.com/reciproca/reciproca/internal/redemption"
)

// redemptionSet makes the demo employees able to book: the split policy
// every validation applies (10% to the inclusion fund, 5% platform fee),
// the fund pool and fee accounts, and a wallet of €300 for each demo
// employee in one lot valid for a year (what the plans domain's
// allocation will do; a wallet that already holds credits is left alone).
var zero int64

var redemptionSet = set{
	name: "redemption-v1",
	load: loadRedemption,
}

func loadRedemption(ctx context.Context, tx *sqlx.Tx) error {
	if _, err := ledger.PolicyAt(ctx, tx, redemption.DefaultPolicy, time.Now()); err != nil {
		if _, err := ledger.CreatePolicy(ctx, tx, ledger.SplitPolicy{Name: redemption.DefaultPolicy, ValidFrom: time.Unix(0, 0).UTC(),
			FundBps: 1000, FeeBps: 500, RemainderTo: ledger.ToProvider}); err != nil {
			return fmt.Errorf("split policy: %w", err)
		}
	}
	specs := append(redemption.Config{FundPool: redemption.DefaultFundPool, Fees: redemption.DefaultFees}.PlatformAccounts(),
		ledger.AccountSpec{Path: "platform:bank", Kind: ledger.Asset})
	for _, spec := range specs {
		if _, err := ledger.CreateAccount(ctx, tx, spec); err != nil {
			return fmt.Errorf("account %s: %w", spec.Path, err)
		}
	}
	expires := time.Now().AddDate(1, 0, 0)
	for _, u := range demoUsers {
		if u.role != "employee" {
			continue
		}
		var id uuid.UUID
		if err := tx.GetContext(ctx, &id, `SELECT id FROM users WHERE email = $1`, u.email); err != nil {
			return fmt.Errorf("employee %s: %w", u.email, err)
		}
		budget := "company:" + u.org.String() + ":budget"
		if _, err := ledger.CreateAccount(ctx, tx, ledger.AccountSpec{Path: budget, Kind: ledger.Liability, Floor: &zero}); err != nil {
			return err
		}
		acc, err := ledger.CreateAccount(ctx, tx, redemption.WalletSpec(id))
		if err != nil {
			return err
		}
		if b, err := ledger.GetBalance(ctx, tx, acc.Path); err != nil || b.Posted != 0 {
			continue
		}
		// a bank top-up of the company's budget, then the allocation
		if _, err := ledger.Post(ctx, tx, ledger.Request{Key: "seed:topup:" + id.String(), Kind: "topup",
			Postings: []ledger.Posting{{From: "platform:bank", To: budget, Amount: 300_00}}}); err != nil {
			return fmt.Errorf("budget of %s: %w", u.org, err)
		}
		if _, err := ledger.Post(ctx, tx, ledger.Request{Key: "seed:wallet:" + id.String(), Kind: "allocation",
			Postings: []ledger.Posting{{From: budget, To: acc.Path, Amount: 300_00,
				Lot: &ledger.LotSpec{ExpiresAt: &expires, Attrs: map[string]any{"company": u.org.String(), "demo": true}}}}}); err != nil {
			return fmt.Errorf("wallet of %s: %w", u.email, err)
		}
	}
	return nil
}
