package catalog

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"
)

// ConnectAccounts creates Stripe Connect accounts and onboarding links for
// providers; internal/payments implements it against Stripe (stripe-mock in
// development and tests).
type ConnectAccounts interface {
	// CreateExpressAccount creates an Express account for the provider and
	// returns its id; a second call with the same idempotency key returns
	// the same account.
	CreateExpressAccount(ctx context.Context, idempotencyKey string, providerID uuid.UUID, email string) (string, error)
	// OnboardingLink returns a one-time link to Stripe's onboarding form.
	OnboardingLink(ctx context.Context, accountID, refreshURL, returnURL string) (string, error)
}

// AccountUpdate is the part of a Stripe account.updated event the
// catalogue keeps.
type AccountUpdate struct {
	AccountID string
	// ProviderID is the provider the account was created for (the
	// account's metadata): it finds the provider when the account's
	// creation has not been recorded yet.
	ProviderID       string
	DetailsSubmitted bool
	ChargesEnabled   bool
	PayoutsEnabled   bool
	At               time.Time
}

// StartStripeOnboarding creates the provider's Stripe Express account on
// first use and returns a fresh onboarding link.
//
// Stripe is never called inside a transaction: the intent (the account's
// idempotency key) is committed first, Stripe is called with that key, and
// the account id is recorded after. Two first clicks at once, or a retry
// after a crash or a timeout, send the same key, so Stripe creates one
// account.
//
// Errors: unauthorized, forbidden, not_found, unavailable (Stripe down or
// refusing: nothing is lost, asking again later gets the same account).
func (s *Service) StartStripeOnboarding(ctx context.Context, p *auth.Principal, providerID uuid.UUID, refreshURL, returnURL string) (accountID, link string, err error) {
	if err := manages(p, providerID); err != nil {
		return "", "", err
	}
	if s.connect == nil {
		return "", "", apperr.New(apperr.Internal, "payments are not configured")
	}
	intent, err := requestStripeAccount(ctx, s.db, providerID)
	if err != nil {
		return "", "", err
	}
	accountID = intent.AccountID
	if accountID == "" {
		created, err := s.connect.CreateExpressAccount(ctx, intent.Key.String(), providerID, intent.Email)
		if err != nil {
			return "", "", stripeUnavailable(err, "creating the Stripe account")
		}
		if accountID, err = recordStripeAccount(ctx, s.db, providerID, created); err != nil {
			return "", "", err
		}
	}
	link, err = s.connect.OnboardingLink(ctx, accountID, refreshURL, returnURL)
	if err != nil {
		return "", "", stripeUnavailable(err, "creating the Stripe onboarding link")
	}
	return accountID, link, nil
}

// stripeUnavailable is what a user is told when Stripe cannot be reached
// or refuses: try again later. The cause is kept for the log.
func stripeUnavailable(err error, doing string) error {
	return &apperr.Error{Code: apperr.Unavailable, Message: "the payment service does not answer: try again later", Err: apperr.Wrap(err, "%s", doing)}
}

// ApplyAccountUpdate records what Stripe says about a Connect account, in
// the caller's transaction (the webhook inbox marks the event handled in
// the same one). An update older than the one already applied changes
// nothing. It reports whether a provider was updated.
func (s *Service) ApplyAccountUpdate(ctx context.Context, tx sqlx.ExtContext, u AccountUpdate) (bool, error) {
	if u.AccountID == "" {
		return false, invalidField("account", "the event has no account id")
	}
	return updateStripeStatus(ctx, tx, u)
}

// stripeIntent is a provider's Connect account, or the idempotency key
// under which it is being created.
type stripeIntent struct {
	AccountID string    `db:"account_id"`
	Key       uuid.UUID `db:"stripe_account_key"`
	Email     string    `db:"email"`
}

// requestStripeAccount records, in one autocommitted statement, the intent
// to create the provider's account: its idempotency key, kept from the
// first request on.
func requestStripeAccount(ctx context.Context, q sqlx.QueryerContext, id uuid.UUID) (stripeIntent, error) {
	var in stripeIntent
	err := sqlx.GetContext(ctx, q, &in, `UPDATE providers SET stripe_account_key = coalesce(stripe_account_key, gen_random_uuid())
		WHERE organisation_id = $1
		RETURNING coalesce(stripe_account_id, '') AS account_id, stripe_account_key, coalesce(email, '') AS email`, id)
	return in, db.MapError(err, "provider")
}

// recordStripeAccount records the account Stripe created, unless one is
// recorded already (a concurrent request with the same key got the same
// account), and returns the provider's account.
func recordStripeAccount(ctx context.Context, q sqlx.QueryerContext, id uuid.UUID, accountID string) (string, error) {
	var recorded string
	err := sqlx.GetContext(ctx, q, &recorded, `UPDATE providers SET stripe_account_id = coalesce(stripe_account_id, $2), updated_at = now()
		WHERE organisation_id = $1 RETURNING stripe_account_id`, id, accountID)
	if db.IsUniqueViolation(err, "providers_stripe_account_id_key") {
		// Stripe never reuses an id; stripe-mock answers every create with the same one.
		return "", apperr.New(apperr.Conflict, "this Stripe account is already linked to another provider")
	}
	return recorded, db.MapError(err, "provider")
}

// updateStripeStatus applies an account update unless a newer one was
// already applied (Stripe does not promise delivery order); it reports
// whether it changed a provider. Event times have whole seconds: of two
// updates within one second neither is known to be the later, so their
// flags are merged, and a flag set within that second stays set until a
// later update. The provider is found by its account id, or, before its
// account id is recorded, by the provider id the account was created for.
func updateStripeStatus(ctx context.Context, q sqlx.ExtContext, u AccountUpdate) (bool, error) {
	res, err := q.ExecContext(ctx, `UPDATE providers SET stripe_account_id = $1,
			stripe_details_submitted = $2 OR coalesce(stripe_updated_at = $5 AND stripe_details_submitted, false),
			stripe_charges_enabled = $3 OR coalesce(stripe_updated_at = $5 AND stripe_charges_enabled, false),
			stripe_payouts_enabled = $4 OR coalesce(stripe_updated_at = $5 AND stripe_payouts_enabled, false),
			stripe_updated_at = $5, updated_at = now()
		WHERE (stripe_account_id = $1 OR (stripe_account_id IS NULL AND organisation_id::text = $6))
		  AND (stripe_updated_at IS NULL OR stripe_updated_at <= $5)`,
		u.AccountID, u.DetailsSubmitted, u.ChargesEnabled, u.PayoutsEnabled, u.At, u.ProviderID)
	if err != nil {
		return false, db.MapError(err, "provider")
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}
