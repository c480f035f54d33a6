// Package fundtest puts money where the fund's tests need it, through the
// ledger as the real flows would: contributor lots in a fund's pool (as a
// redemption's fund share leaves them) and a company's budget (as a
// top-up leaves it).
package fundtest

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/fund"
	"github.com/reciproca/reciproca/internal/ledger"
)

// Bank is the platform's bank account, where test money comes from.
const Bank = "platform:bank"

func bank(t testing.TB, dbx *sqlx.DB) {
	t.Helper()
	if _, err := ledger.CreateAccount(context.Background(), dbx, ledger.AccountSpec{Path: Bank, Kind: ledger.Asset}); err != nil {
		t.Fatalf("fundtest: bank account: %v", err)
	}
}

// Inflow credits fundID's pool with a contributor lot of amount attributed
// to company, from source (fund.SourceRedemption …).
func Inflow(t testing.TB, dbx *sqlx.DB, fundID, company uuid.UUID, source string, amount int64) int64 {
	t.Helper()
	bank(t, dbx)
	ctx := context.Background()
	if _, err := ledger.CreateAccount(ctx, dbx, fund.PoolSpec(fundID)); err != nil {
		t.Fatalf("fundtest: pool: %v", err)
	}
	res, err := ledger.Post(ctx, dbx, ledger.Request{Key: "fundtest.inflow:" + uuid.NewString(), Kind: "fund.inflow",
		Postings: []ledger.Posting{{From: Bank, To: fund.PoolSpec(fundID).Path, Amount: amount,
			Lot: &ledger.LotSpec{Attrs: map[string]any{"company": company.String(), "source": source}}}}})
	if err != nil {
		t.Fatalf("fundtest: inflow: %v", err)
	}
	return res.TxID
}

// Budget tops up company's budget by amount.
func Budget(t testing.TB, dbx *sqlx.DB, company uuid.UUID, amount int64) {
	t.Helper()
	bank(t, dbx)
	ctx := context.Background()
	zero := int64(0)
	path := "company:" + company.String() + ":budget"
	if _, err := ledger.CreateAccount(ctx, dbx, ledger.AccountSpec{Path: path, Kind: ledger.Liability, Floor: &zero}); err != nil {
		t.Fatalf("fundtest: budget: %v", err)
	}
	if _, err := ledger.Post(ctx, dbx, ledger.Request{Key: "fundtest.topup:" + uuid.NewString(), Kind: "topup",
		Postings: []ledger.Posting{{From: Bank, To: path, Amount: amount}}}); err != nil {
		t.Fatalf("fundtest: top-up: %v", err)
	}
}
