package seed

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/ledger"
	"github.com/reciproca/reciproca/internal/redemption"
)

// redemptionSet is what validations need: the split policy every
// validation applies (10% to the inclusion fund, 5% platform fee), the
// fund pool and fee accounts. The employees' credits come from the plans
// set's allocation; redemptionDemoSet spends them.
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
	return nil
}
