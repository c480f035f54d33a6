package funding

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	stripe "github.com/stripe/stripe-go/v76"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/ledger"
	"github.com/reciproca/reciproca/internal/payments"
)

// Subscribe registers funding's handlers for the platform's Stripe events.
// Each runs inside the inbox's transaction that marks the event handled,
// locks the top-up's row first (two events about one top-up wait for each
// other) and moves its state machine only forwards. An event whose
// prerequisite has not arrived yet (a refund before the payment) fails and
// is retried later by the inbox; an event about no top-up of ours is
// refused: stored and logged, never credited.
func (s *Service) Subscribe(in *payments.Inbox) {
	on := func(t stripe.EventType, h payments.Handler) { in.On(payments.Platform, t, h) }
	on(stripe.EventTypeCheckoutSessionCompleted, s.onSession)
	on(stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded, s.onSession)
	on(stripe.EventTypeCheckoutSessionAsyncPaymentFailed, s.onSession)
	on(stripe.EventTypeCheckoutSessionExpired, s.onSession)
	on(stripe.EventTypeChargeRefunded, s.onRefund)
	on(stripe.EventTypeChargeDisputeFundsWithdrawn, s.onDispute)
	on(stripe.EventTypeChargeDisputeFundsReinstated, s.onDispute)
	on(stripe.EventTypeChargeDisputeClosed, s.onDispute)
}

// errNotYet is retried by the inbox: the event's prerequisite (the
// payment) has not been handled yet.
var errNotYet = errors.New("the top-up is not paid yet: retried later")

func refuse(format string, args ...any) error { return apperr.New(apperr.Invalid, format, args...) }

// onSession applies a Checkout Session event to its top-up.
func (s *Service) onSession(ctx context.Context, tx *sqlx.Tx, e stripe.Event) error {
	var cs stripe.CheckoutSession
	if e.Data == nil || json.Unmarshal(e.Data.Raw, &cs) != nil {
		return refuse("%s without a session", e.Type)
	}
	ref := cs.ClientReferenceID
	if ref == "" {
		ref = cs.Metadata["topup_id"]
	}
	t, err := s.lockTopUp(ctx, tx, ref)
	if err != nil {
		return err
	}
	if t.Channel != Card {
		return refuse("session %s names bank top-up %s", cs.ID, t.ID)
	}
	var next Status
	switch {
	case e.Type == stripe.EventTypeCheckoutSessionExpired:
		next = Expired
	case e.Type == stripe.EventTypeCheckoutSessionAsyncPaymentFailed:
		next = Failed
	case cs.PaymentStatus == stripe.CheckoutSessionPaymentStatusPaid:
		next = Paid
	case e.Type == stripe.EventTypeCheckoutSessionCompleted && cs.PaymentStatus == stripe.CheckoutSessionPaymentStatusUnpaid:
		next = Processing
	default:
		return refuse("%s with payment status %q", e.Type, cs.PaymentStatus)
	}
	if next.rank() <= t.Status.rank() {
		if next != t.Status {
			slog.WarnContext(ctx, "stripe event after the top-up settled", "topup", t.ID, "status", t.Status, "event", e.ID, "type", e.Type)
		}
		return nil
	}
	if next == Paid {
		if cs.AmountTotal != t.Amount || cs.Currency != stripe.CurrencyEUR {
			return refuse("session %s paid %d %s for top-up %s of %d EUR", cs.ID, cs.AmountTotal, cs.Currency, t.ID, t.Amount)
		}
		return s.credit(ctx, tx, t, cs)
	}
	_, err = tx.ExecContext(ctx, `UPDATE funding_topups SET status = $2, updated_at = now() WHERE id = $1`, t.ID, next)
	return err
}

// credit marks a card top-up paid and credits its budget: platform:stripe
// → company budget, the whole amount (surcharging the payer is banned in
// Italy; Stripe's fee is the platform's expense, booked by BookStripeFees).
func (s *Service) credit(ctx context.Context, tx *sqlx.Tx, t TopUp, cs stripe.CheckoutSession) error {
	var pi *string
	if cs.PaymentIntent != nil && cs.PaymentIntent.ID != "" {
		pi = &cs.PaymentIntent.ID
	}
	if _, err := tx.ExecContext(ctx, `UPDATE funding_topups SET status = 'paid', paid_at = now(), credited = amount,
			payment_intent = coalesce($2, payment_intent), checkout_session = coalesce(checkout_session, $3), updated_at = now()
		WHERE id = $1`, t.ID, pi, cs.ID); err != nil {
		return err
	}
	if err := EnsureAccounts(ctx, tx, t.CompanyID); err != nil {
		return err
	}
	_, err := ledger.Post(ctx, tx, ledger.Request{Key: "topup:" + t.ID.String() + ":credit", Kind: "topup", Reference: t.ID.String(),
		Metadata: map[string]any{"channel": "card"},
		Postings: []ledger.Posting{{From: StripeAccount, To: BudgetAccount(t.CompanyID), Amount: t.Amount}}})
	return err
}

// onRefund books what Stripe refunded on a top-up's charge since the last
// refund event: amount_refunded only grows, so an older event changes
// nothing and each new total is booked once (its key names the total).
func (s *Service) onRefund(ctx context.Context, tx *sqlx.Tx, e stripe.Event) error {
	var ch stripe.Charge
	if e.Data == nil || json.Unmarshal(e.Data.Raw, &ch) != nil {
		return refuse("charge.refunded without a charge")
	}
	t, err := s.lockCharge(ctx, tx, e, ch.Metadata["topup_id"], ch.PaymentIntent)
	if err != nil {
		return err
	}
	if t.Status != Paid {
		return errNotYet
	}
	if ch.AmountRefunded > t.Amount {
		return refuse("charge %s refunded %d of a %d top-up", ch.ID, ch.AmountRefunded, t.Amount)
	}
	delta := ch.AmountRefunded - t.Refunded
	if delta <= 0 {
		return nil
	}
	key := fmt.Sprintf("topup:%s:refunded:%d", t.ID, ch.AmountRefunded)
	if _, err := s.takeBack(ctx, tx, t, delta, "refund", key); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE funding_topups SET refunded = $2, updated_at = now() WHERE id = $1`, t.ID, ch.AmountRefunded)
	return err
}

// lockTopUp reads and locks the top-up an event names.
func (s *Service) lockTopUp(ctx context.Context, tx *sqlx.Tx, ref string) (TopUp, error) {
	id, err := uuid.Parse(ref)
	if err != nil {
		return TopUp{}, refuse("the event names no top-up of ours (%q)", ref)
	}
	if _, err := tx.ExecContext(ctx, `SELECT 1 FROM funding_topups WHERE id = $1 FOR UPDATE`, id); err != nil {
		return TopUp{}, err
	}
	t, err := s.topUp(ctx, tx, id)
	if apperr.Is(err, apperr.NotFound) {
		return TopUp{}, refuse("the event names an unknown top-up %s", id)
	}
	return t, err
}

// lockCharge finds the top-up a charge or dispute belongs to: by the
// topup_id metadata our PaymentIntent carries, else by the PaymentIntent
// recorded when it was paid (when exactly one top-up has it). A payment
// no top-up has is waited for a day (its checkout event may be late), then
// refused.
func (s *Service) lockCharge(ctx context.Context, tx *sqlx.Tx, e stripe.Event, ref string, pi *stripe.PaymentIntent) (TopUp, error) {
	if ref == "" && pi != nil && pi.ID != "" {
		var ids []string
		if err := tx.SelectContext(ctx, &ids, `SELECT id::text FROM funding_topups WHERE payment_intent = $1 LIMIT 2`, pi.ID); err != nil {
			return TopUp{}, db.MapError(err, "top-up")
		}
		if len(ids) == 1 {
			ref = ids[0]
		}
		if len(ids) == 0 && time.Since(time.Unix(e.Created, 0)) < 24*time.Hour {
			return TopUp{}, fmt.Errorf("no top-up has payment %s yet: %w", pi.ID, errNotYet)
		}
	}
	return s.lockTopUp(ctx, tx, ref)
}
