package ledger_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/db/dbtest"
	"github.com/reciproca/reciproca/internal/ledger"
)

var zero int64

// chart is a small chart of accounts like the product's.
type chart struct {
	t   testing.TB
	ctx context.Context
	db  *sqlx.DB
}

const (
	stripe  = "platform:stripe"
	fees    = "platform:fees"
	budget  = "company:c1:budget"
	payable = "provider:p1:payable"
	pool    = "fund:f1:pool"
	policy  = "standard"
)

func wallet(i int) string { return fmt.Sprintf("employee:e%d:wallet", i) }

func newChart(t testing.TB) *chart {
	t.Helper()
	return chartOn(t, dbtest.Open(t))
}

// chartOn creates the chart of accounts in the database dbx.
func chartOn(t testing.TB, dbx *sqlx.DB) *chart {
	t.Helper()
	c := &chart{t: t, ctx: context.Background(), db: dbx}
	c.account(ledger.AccountSpec{Path: stripe, Kind: ledger.Asset})
	c.account(ledger.AccountSpec{Path: fees, Kind: ledger.Revenue, Shards: 8})
	c.account(ledger.AccountSpec{Path: budget, Kind: ledger.Liability, Floor: &zero})
	c.account(ledger.AccountSpec{Path: payable, Kind: ledger.Liability, Floor: &zero})
	c.account(ledger.AccountSpec{Path: pool, Kind: ledger.Liability, Floor: &zero, Lots: true, Shards: 8})
	_, err := ledger.CreatePolicy(c.ctx, c.db, ledger.SplitPolicy{Name: policy, ValidFrom: time.Unix(0, 0),
		FundBps: 1500, FeeBps: 500, RemainderTo: ledger.ToProvider})
	c.ok(err)
	return c
}

func (c *chart) account(s ledger.AccountSpec) ledger.Account {
	c.t.Helper()
	a, err := ledger.CreateAccount(c.ctx, c.db, s)
	c.ok(err)
	return a
}

func (c *chart) wallet(i int) string {
	c.t.Helper()
	c.account(ledger.AccountSpec{Path: wallet(i), Kind: ledger.Liability, Floor: &zero, Lots: true})
	return wallet(i)
}

func (c *chart) ok(err error) {
	c.t.Helper()
	if err != nil {
		c.t.Fatal(err)
	}
}

func (c *chart) post(r ledger.Request) ledger.Result {
	c.t.Helper()
	res, err := ledger.Post(c.ctx, c.db, r)
	c.ok(err)
	return res
}

// topUp puts amount in the company budget.
func (c *chart) topUp(key string, amount int64) {
	c.t.Helper()
	c.post(ledger.Request{Key: key, Kind: "topup", Postings: []ledger.Posting{{From: stripe, To: budget, Amount: amount}}})
}

// allocate gives a wallet a lot.
func (c *chart) allocate(key, w string, amount int64, exp *time.Time, cats ...string) ledger.Result {
	c.t.Helper()
	return c.post(ledger.Request{Key: key, Kind: "allocation", Postings: []ledger.Posting{{From: budget, To: w,
		Amount: amount, Lot: &ledger.LotSpec{ExpiresAt: exp, Categories: cats, Attrs: map[string]any{"company": "c1"}}}}})
}

func (c *chart) balance(path string) ledger.Balance {
	c.t.Helper()
	b, err := ledger.GetBalance(c.ctx, c.db, path)
	c.ok(err)
	return b
}

func (c *chart) wantAvailable(path string, want int64) {
	c.t.Helper()
	if got := c.balance(path).Available; got != want {
		c.t.Fatalf("%s available = %d, want %d", path, got, want)
	}
}

func (c *chart) verify() {
	c.t.Helper()
	rep, err := ledger.Verify(c.ctx, c.db)
	c.ok(err)
	if !rep.OK {
		var b = new(stringsBuilder)
		rep.Write(b)
		c.t.Fatalf("verify failed:\n%s", b)
	}
}

type stringsBuilder struct{ s []byte }

func (b *stringsBuilder) Write(p []byte) (int, error) { b.s = append(b.s, p...); return len(p), nil }
func (b *stringsBuilder) String() string              { return string(b.s) }

func wantCode(t testing.TB, err error, code apperr.Code) *apperr.Error {
	t.Helper()
	if !apperr.Is(err, code) {
		t.Fatalf("error = %v, want code %s", err, code)
	}
	ae, _ := err.(*apperr.Error)
	return ae
}

// sealAll seals every transaction. The sealer only seals behind the oldest
// running transaction of the cluster, which the shared test server's other
// users may hold back for a moment: retry until done.
func (c *chart) sealAll() {
	c.t.Helper()
	for i := 0; i < 600; i++ {
		_, err := ledger.SealAll(c.ctx, c.db)
		c.ok(err)
		var unsealed int
		c.ok(c.db.Get(&unsealed, `SELECT count(*) FROM ledger_transactions t
			WHERE NOT EXISTS (SELECT 1 FROM ledger_log l WHERE l.tx_id = t.id)`))
		if unsealed == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatal("transactions left unsealed for 30 s")
}
