package payments

import (
	"context"
	"errors"

	stripe "github.com/stripe/stripe-go/v76"
)

// PermanentError is a Stripe refusal that retrying cannot change (the
// request itself is wrong: a closed destination, transfers not enabled).
// Permanent reports it to callers that do not import this package.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return "stripe refused: " + e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent reports that retrying is pointless.
func (e *PermanentError) Permanent() bool { return true }

// classify marks Stripe's refusals of the request (4xx but rate limits,
// conflicts and lock timeouts) as permanent; everything else (network,
// 5xx) may pass on a retry.
func classify(err error) error {
	var se *stripe.Error
	if errors.As(err, &se) && se.HTTPStatusCode >= 400 && se.HTTPStatusCode < 500 &&
		se.HTTPStatusCode != 409 && se.HTTPStatusCode != 429 && se.Code != stripe.ErrorCodeLockTimeout {
		return &PermanentError{Err: err}
	}
	return err
}

// Available is the platform's available balance in euro cents.
func (s *Stripe) Available(ctx context.Context) (int64, error) {
	p := &stripe.BalanceParams{}
	p.Context = ctx
	b, err := s.balances.Get(p)
	if err != nil {
		return 0, classify(err)
	}
	var sum int64
	for _, a := range b.Available {
		if a.Currency == stripe.CurrencyEUR {
			sum += a.Amount
		}
	}
	return sum, nil
}

// Transfer moves amount euro cents from the platform's balance to a
// connected account. key is Stripe's idempotency key: a retry with it is
// the same transfer. It returns the transfer's id.
func (s *Stripe) Transfer(ctx context.Context, key, destination string, amount int64, description string) (string, error) {
	p := &stripe.TransferParams{Amount: stripe.Int64(amount), Currency: stripe.String(string(stripe.CurrencyEUR)),
		Destination: stripe.String(destination), Description: stripe.String(description)}
	p.Context = ctx
	p.SetIdempotencyKey(key)
	p.AddMetadata("reference", key)
	t, err := s.transfers.New(p)
	if err != nil {
		return "", classify(err)
	}
	return t.ID, nil
}

// ReverseTransfer takes amount euro cents of a transfer back from the
// connected account into the platform's balance. key is Stripe's
// idempotency key: a retry with it is the same reversal. It returns the
// reversal's id.
func (s *Stripe) ReverseTransfer(ctx context.Context, key, transfer string, amount int64) (string, error) {
	p := &stripe.TransferReversalParams{ID: stripe.String(transfer), Amount: stripe.Int64(amount)}
	p.Context = ctx
	p.SetIdempotencyKey(key)
	p.AddMetadata("reference", key)
	r, err := s.reversals.New(p)
	if err != nil {
		return "", classify(err)
	}
	return r.ID, nil
}
