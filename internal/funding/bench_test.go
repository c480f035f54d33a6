package funding_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/reciproca/reciproca/internal/funding"
)

// BenchmarkWebhookCredit measures one card top-up's way from a signed
// checkout.session.completed delivery to its budget credit: verify and
// store the event (the webhook answer), then the worker's handling (lock
// the top-up, move its state, post the ledger credit, mark the event).
//
//	go test -run '^$' -bench WebhookCredit -benchtime 500x ./internal/funding/
func BenchmarkWebhookCredit(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	topups := make([]funding.TopUp, b.N)
	for i := range topups {
		topups[i] = funding.TopUp{ID: uuid.New(), Amount: 100_00}
		e.db.MustExec(`INSERT INTO funding_topups (id, company_id, channel, amount, status) VALUES ($1, $2, 'card', $3, 'open')`,
			topups[i].ID, e.admin.OrgID, topups[i].Amount)
	}
	if err := funding.EnsureAccounts(ctx, e.db, e.admin.OrgID); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		e.deliver(event("checkout.session.completed", session(topups[i], "paid")))
		if n, err := e.inbox.HandlePending(ctx, 10); n != 1 || err != nil {
			b.Fatalf("handled %d: %v", n, err)
		}
	}
	b.StopTimer()
	if got := e.balance(funding.BudgetAccount(e.admin.OrgID)); got != int64(b.N)*100_00 {
		b.Fatalf("budget %d", got)
	}
}
