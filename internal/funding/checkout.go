package funding

import (
	"context"
	"fmt"
	"time"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/payments"
)

// TopUpPath is the web page of one top-up: Stripe sends the payer back
// there, and it resolves by itself once the webhook has arrived.
func TopUpPath(t TopUp) string { return "/budget/ricariche/" + t.ID.String() }

// startCheckout asks Stripe for the top-up's Checkout Session, with the
// top-up's own Stripe key, and records it (unless a concurrent request
// recorded one first: then that one is kept).
func (s *Service) startCheckout(ctx context.Context, t TopUp, email string) (TopUp, error) {
	if s.stripe == nil {
		return TopUp{}, apperr.New(apperr.Internal, "payments are not configured")
	}
	back := s.settings.BaseURL + TopUpPath(t)
	cs, err := s.stripe.CreateCheckoutSession(ctx, payments.CheckoutRequest{
		IdempotencyKey: "topup-" + t.StripeKey.String(),
		Reference:      t.ID.String(),
		AmountCents:    t.Amount,
		Description:    fmt.Sprintf("Ricarica budget welfare – %s", t.Company),
		SuccessURL:     back,
		CancelURL:      back + "?cancelled=1",
		ExpiresAt:      time.Now().Add(s.settings.CheckoutTTL),
		Email:          email,
	})
	if err != nil {
		return TopUp{}, &apperr.Error{Code: apperr.Unavailable, Message: "the payment service does not answer: try again later",
			Err: apperr.Wrap(err, "creating the Checkout Session")}
	}
	_, err = s.db.ExecContext(ctx, `UPDATE funding_topups SET checkout_session = $2, checkout_url = $3,
			status = CASE WHEN status = 'pending' THEN 'open' ELSE status END, updated_at = now()
		WHERE id = $1 AND checkout_session IS NULL`, t.ID, cs.ID, cs.URL)
	if err != nil {
		return TopUp{}, db.MapError(err, "top-up")
	}
	return s.topUp(ctx, s.db, t.ID)
}
