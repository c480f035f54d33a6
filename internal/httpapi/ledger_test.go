package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/reciproca/reciproca/internal/db/dbtest"
	"github.com/reciproca/reciproca/internal/ledger"
)

// The verify operation reports the ledger's state: every check, ok while
// the invariants hold, the violations with examples once they do not.
func TestVerifyLedgerReport(t *testing.T) {
	ctx := context.Background()
	dbx := dbtest.Open(t)
	zero := int64(0)
	for _, s := range []ledger.AccountSpec{{Path: "platform:stripe", Kind: ledger.Asset},
		{Path: "company:c1:budget", Kind: ledger.Liability, Floor: &zero}} {
		if _, err := ledger.CreateAccount(ctx, dbx, s); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ledger.Post(ctx, dbx, ledger.Request{Key: "topup", Postings: []ledger.Posting{
		{From: "platform:stripe", To: "company:c1:budget", Amount: 12_00}}}); err != nil {
		t.Fatal(err)
	}
	h := ledgerHandlers{db: dbx}
	report := func() LedgerReport {
		t.Helper()
		res, err := h.VerifyLedger(ctx, VerifyLedgerRequestObject{})
		if err != nil {
			t.Fatal(err)
		}
		rep, ok := res.(VerifyLedger200JSONResponse)
		if !ok {
			t.Fatalf("response %T", res)
		}
		return LedgerReport(rep)
	}
	rep := report()
	if !rep.Ok || rep.Transactions != 1 || rep.Entries != 2 || rep.Accounts != 2 || len(rep.Checks) < 10 {
		t.Fatalf("report of a healthy ledger = %+v", rep)
	}
	if _, err := dbx.Exec(`UPDATE ledger_balances SET posted = posted + 1`); err != nil {
		t.Fatal(err)
	}
	rep = report()
	var materialised LedgerCheck
	for _, c := range rep.Checks {
		if c.Name == "materialised" {
			materialised = c
		}
	}
	if rep.Ok || materialised.Violations != 2 || len(materialised.Examples) != 2 {
		t.Fatalf("report of a damaged ledger = %+v", rep)
	}
}

// Without credentials the operation answers 401 in the error shape.
func TestVerifyLedgerNeedsSignIn(t *testing.T) {
	e := echo.New()
	e.HTTPErrorHandler = func(err error, c echo.Context) { WriteError(c, err) }
	if err := Register(e, Deps{DB: dbtest.Open(t), Version: "test"}); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, BasePath+"/admin/ledger/verify", nil))
	var body Error
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q: %v", rec.Body, err)
	}
	if rec.Code != http.StatusUnauthorized || body.Code != "unauthorized" {
		t.Fatalf("GET without credentials = %d %+v", rec.Code, body)
	}
}
