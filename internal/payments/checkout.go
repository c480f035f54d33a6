package payments

import (
	"context"
	"time"

	stripe "github.com/stripe/stripe-go/v76"
)

// CheckoutRequest is a one-off card payment through Stripe Checkout.
type CheckoutRequest struct {
	// IdempotencyKey makes a retried creation return the same session.
	IdempotencyKey string
	// Reference is our record's id: the session's client_reference_id and
	// the "topup_id" metadata of the session and of its PaymentIntent (so
	// that its charge, refunds and disputes name it too).
	Reference   string
	AmountCents int64
	// Description is the line item's name, shown on Stripe's page.
	Description string
	SuccessURL  string
	CancelURL   string
	// ExpiresAt is when an unpaid session ends (30 minutes to 24 hours ahead).
	ExpiresAt time.Time
	Email     string
}

// CheckoutSession is what Stripe answered: where to send the payer.
type CheckoutSession struct {
	ID  string
	URL string
}

// CreateCheckoutSession creates a Checkout Session in payment mode for
// one amount in euro.
func (s *Stripe) CreateCheckoutSession(ctx context.Context, r CheckoutRequest) (CheckoutSession, error) {
	p := &stripe.CheckoutSessionParams{
		Mode:              stripe.String(string(stripe.CheckoutSessionModePayment)),
		ClientReferenceID: stripe.String(r.Reference),
		SuccessURL:        stripe.String(r.SuccessURL),
		CancelURL:         stripe.String(r.CancelURL),
		Locale:            stripe.String("it"),
		LineItems: []*stripe.CheckoutSessionLineItemParams{{
			Quantity: stripe.Int64(1),
			PriceData: &stripe.CheckoutSessionLineItemPriceDataParams{
				Currency:    stripe.String(string(stripe.CurrencyEUR)),
				UnitAmount:  stripe.Int64(r.AmountCents),
				ProductData: &stripe.CheckoutSessionLineItemPriceDataProductDataParams{Name: stripe.String(r.Description)},
			},
		}},
		PaymentIntentData: &stripe.CheckoutSessionPaymentIntentDataParams{Metadata: map[string]string{"topup_id": r.Reference}},
	}
	if !r.ExpiresAt.IsZero() {
		p.ExpiresAt = stripe.Int64(r.ExpiresAt.Unix())
	}
	if r.Email != "" {
		p.CustomerEmail = stripe.String(r.Email)
	}
	p.Context = ctx
	p.SetIdempotencyKey(r.IdempotencyKey)
	p.AddMetadata("topup_id", r.Reference)
	cs, err := s.sessions.New(p)
	if err != nil {
		return CheckoutSession{}, err
	}
	return CheckoutSession{ID: cs.ID, URL: cs.URL}, nil
}

// PaymentFee returns Stripe's fee on a PaymentIntent's charge, read from
// the charge's balance transaction.
func (s *Stripe) PaymentFee(ctx context.Context, paymentIntent string) (fee int64, balanceTx string, err error) {
	p := &stripe.PaymentIntentParams{}
	p.Context = ctx
	p.AddExpand("latest_charge.balance_transaction")
	pi, err := s.intents.Get(paymentIntent, p)
	if err != nil {
		return 0, "", err
	}
	if pi.LatestCharge == nil || pi.LatestCharge.BalanceTransaction == nil {
		return 0, "", nil
	}
	bt := pi.LatestCharge.BalanceTransaction
	return bt.Fee, bt.ID, nil
}

// BalanceTransaction is one movement of the platform's Stripe balance.
type BalanceTransaction struct {
	ID      string
	Type    string
	Amount  int64
	Fee     int64
	Net     int64
	Created time.Time
	// Description is Stripe's (a Connect fee says what it is for).
	Description string
	// Source is the charge, refund or dispute it belongs to.
	Source string
	// Reference is the topup_id metadata of the charge it belongs to
	// (its PaymentIntent's), and PaymentIntent that PaymentIntent.
	Reference, PaymentIntent string
}

// BalanceTransactions lists the platform's balance transactions created
// in [from, to), at most limit.
func (s *Stripe) BalanceTransactions(ctx context.Context, from, to time.Time, limit int) ([]BalanceTransaction, error) {
	p := &stripe.BalanceTransactionListParams{CreatedRange: &stripe.RangeQueryParams{
		GreaterThanOrEqual: from.Unix(), LesserThan: to.Unix()}}
	p.Context = ctx
	p.Limit = stripe.Int64(100)
	p.AddExpand("data.source")
	var out []BalanceTransaction
	it := s.balance.List(p)
	for it.Next() && len(out) < limit {
		bt := it.BalanceTransaction()
		b := BalanceTransaction{ID: bt.ID, Type: string(bt.Type), Amount: bt.Amount, Fee: bt.Fee, Net: bt.Net,
			Created: time.Unix(bt.Created, 0).UTC(), Description: bt.Description}
		if bt.Source != nil {
			b.Source = bt.Source.ID
			if ch := bt.Source.Charge; ch != nil {
				b.Reference = ch.Metadata["topup_id"]
				if ch.PaymentIntent != nil {
					b.PaymentIntent = ch.PaymentIntent.ID
				}
			}
		}
		out = append(out, b)
	}
	return out, it.Err()
}

// StripeFees lists Stripe's own fees on the platform's balance (balance
// transactions of type stripe_fee: Connect's account and payout billing)
// created since a time, at most 1,000.
func (s *Stripe) StripeFees(ctx context.Context, since time.Time) ([]BalanceTransaction, error) {
	p := &stripe.BalanceTransactionListParams{Type: stripe.String("stripe_fee"),
		CreatedRange: &stripe.RangeQueryParams{GreaterThanOrEqual: since.Unix()}}
	p.Context = ctx
	p.Limit = stripe.Int64(100)
	var out []BalanceTransaction
	it := s.balance.List(p)
	for it.Next() && len(out) < 1000 {
		bt := it.BalanceTransaction()
		if bt.Type != stripe.BalanceTransactionTypeStripeFee { // the filter is Stripe's; a test double may ignore it
			continue
		}
		out = append(out, BalanceTransaction{ID: bt.ID, Type: string(bt.Type), Amount: bt.Amount, Fee: bt.Fee, Net: bt.Net,
			Created: time.Unix(bt.Created, 0).UTC(), Description: bt.Description})
	}
	return out, classify(it.Err())
}
