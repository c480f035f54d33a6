package funding_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/funding"
)

// refundedAndDisputed is a paid card top-up of 600 € of which Stripe
// refunded 100 € and withdrew 200 € for a dispute.
func (e *env) refundedAndDisputed() funding.TopUp {
	e.t.Helper()
	tu := e.cardTopUp(e.admin, 600_00)
	e.deliver(event("checkout.session.completed", session(tu, "paid")))
	e.handle()
	e.deliver(event("charge.refunded", charge(tu, 100_00)))
	e.handle()
	e.deliver(event("charge.dispute.funds_withdrawn", dispute(tu, 200_00, 15_00, "needs_response")))
	e.handle()
	return tu
}

// The accounting export lists what came in (the card top-up), what went
// back (a refund, a dispute withdrawn and reinstated) and Stripe's fees,
// each with the company and the payment's reference, as the ledger has
// them; only platform admins get it.
func TestAccountingExportFollowsTheBooks(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tu := e.refundedAndDisputed()
	e.deliver(event("charge.dispute.funds_reinstated", dispute(tu, 200_00, -15_00, "won")))
	e.handle()
	admin := e.platformAdmin()
	from, to := time.Now().AddDate(0, 0, -1), time.Now().AddDate(0, 0, 1)
	lines, err := e.svc.AccountingLines(ctx, admin, from, to)
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string]int64{}
	for _, l := range lines {
		sums[l.Kind] += l.Cents
		if l.TopUp != tu.ID.String() || l.Company == "" {
			t.Fatalf("a line without its top-up or company: %+v", l)
		}
	}
	want := map[string]int64{"topup_card": 600_00, "refund": -100_00, "dispute": -200_00, "dispute_reinstated": 200_00, "stripe_fee": 0}
	for k, v := range want {
		if sums[k] != v {
			t.Fatalf("export sums %v, want %v", sums, want)
		}
	}
	var b bytes.Buffer
	if err := e.svc.WriteAccountingCSV(ctx, admin, from, to, &b); err != nil {
		t.Fatal(err)
	}
	csv := b.String()
	if !strings.Contains(csv, "data;tipo;azienda;id_azienda;ricarica;riferimento_pagamento;importo") || !strings.Contains(csv, ";topup_card;") ||
		!strings.Contains(csv, ";600,00") || !strings.Contains(csv, ";refund;") || !strings.Contains(csv, ";-100,00") {
		t.Fatalf("accounting CSV:\n%s", csv)
	}
	if _, err := e.svc.AccountingLines(ctx, e.admin, from, to); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("a company admin asking for the export: %v", err)
	}
	if _, err := e.svc.AccountingLines(ctx, admin, to, from); apperr.FieldOf(err) != "to" {
		t.Fatalf("a period ending before it starts: %v", err)
	}
}

// The reconciliation shows refunds and disputes day by day, and a top-up
// whose recorded refunds disagree with the books is listed with its cause.
func TestReconciliationOfRefundsAndDisputesByDay(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tu := e.refundedAndDisputed()
	admin := e.platformAdmin()
	from, to := time.Now().AddDate(0, 0, -1), time.Now().AddDate(0, 0, 1)
	r, err := e.svc.Reconcile(ctx, admin, from, to, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.TakeBacks) != 1 || r.TakeBacks[0].Refunds != 100_00 || r.TakeBacks[0].Disputes != 200_00 || r.TakeBacks[0].Reinstated != 0 {
		t.Fatalf("take-backs by day %+v, want today's 100 € refunded and 200 € disputed", r.TakeBacks)
	}
	for _, d := range r.Differences {
		if d.Cause == "refund_amount" || d.Cause == "dispute_amount" {
			t.Fatalf("a difference where the books agree: %+v", d)
		}
	}
	if _, err := e.db.Exec(`UPDATE funding_topups SET refunded = 15000 WHERE id = $1`, tu.ID); err != nil {
		t.Fatal(err)
	}
	if r, err = e.svc.Reconcile(ctx, admin, from, to, nil); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, d := range r.Differences {
		found = found || d.Cause == "refund_amount" && d.Ref == tu.ID.String() && d.Expected == 150_00 && d.Actual == 100_00
	}
	if !found {
		t.Fatalf("the planted refund difference is not listed: %+v", r.Differences)
	}
}
