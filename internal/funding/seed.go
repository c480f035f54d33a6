package funding

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	stripe "github.com/stripe/stripe-go/v76"
)

// SeedCardTopUp funds a demo company's budget through the card path inside
// tx: the top-up record a company admin's request makes, then the
// checkout.session.completed event Stripe would send, handled by the same
// handler the webhook inbox calls (so the budget is credited by the same
// state machine and ledger posting as in production). Only the Checkout
// Session itself is not created: demo data needs no network.
func SeedCardTopUp(ctx context.Context, tx *sqlx.Tx, id, company, requestedBy uuid.UUID, amount int64) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO funding_topups (id, company_id, channel, amount, status, requested_by, checkout_session)
		VALUES ($1, $2, 'card', $3, 'open', $4, $5) ON CONFLICT (id) DO NOTHING`,
		id, company, amount, requestedBy, "cs_demo_"+id.String()[:8]); err != nil {
		return fmt.Errorf("demo top-up: %w", err)
	}
	raw, err := json.Marshal(map[string]any{"id": "cs_demo_" + id.String()[:8], "object": "checkout.session",
		"client_reference_id": id.String(), "payment_status": "paid", "amount_total": amount, "currency": "eur",
		"metadata": map[string]string{"topup_id": id.String()}})
	if err != nil {
		return err
	}
	e := stripe.Event{ID: "evt_demo_" + id.String()[:8], Type: stripe.EventTypeCheckoutSessionCompleted,
		Created: time.Now().Unix(), Data: &stripe.EventData{Raw: raw}}
	return (&Service{}).onSession(ctx, tx, e)
}
