// Package payments talks to Stripe: Connect Express accounts and
// onboarding links for providers, and the webhook inbox: two signed
// endpoints (POST /webhooks/stripe for the platform's events,
// /webhooks/stripe/connect for connected accounts') store each event by
// id, and the worker hands it to the handler a domain registered with
// Inbox.On, exactly once. In development and tests the API is stripe-mock.
package payments

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	stripe "github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/account"
	"github.com/stripe/stripe-go/v76/accountlink"
	"github.com/stripe/stripe-go/v76/balance"
	"github.com/stripe/stripe-go/v76/balancetransaction"
	"github.com/stripe/stripe-go/v76/checkout/session"
	"github.com/stripe/stripe-go/v76/paymentintent"
	"github.com/stripe/stripe-go/v76/transfer"
	"github.com/stripe/stripe-go/v76/transferreversal"
)

// Stripe is a client of the Stripe API at a configured base URL.
type Stripe struct {
	accounts  account.Client
	links     accountlink.Client
	sessions  session.Client
	intents   paymentintent.Client
	balance   balancetransaction.Client
	balances  balance.Client
	transfers transfer.Client
	reversals transferreversal.Client
}

// NewStripe returns a client for key at apiBase (Stripe, or stripe-mock).
func NewStripe(key, apiBase string) *Stripe {
	cfg := &stripe.BackendConfig{
		HTTPClient:        &http.Client{Timeout: 20 * time.Second},
		MaxNetworkRetries: stripe.Int64(2),
		LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelError},
	}
	if apiBase != "" {
		cfg.URL = stripe.String(strings.TrimRight(apiBase, "/"))
	}
	b := stripe.GetBackendWithConfig(stripe.APIBackend, cfg)
	return &Stripe{accounts: account.Client{B: b, Key: key}, links: accountlink.Client{B: b, Key: key},
		sessions: session.Client{B: b, Key: key}, intents: paymentintent.Client{B: b, Key: key},
		balance:  balancetransaction.Client{B: b, Key: key},
		balances: balance.Client{B: b, Key: key}, transfers: transfer.Client{B: b, Key: key},
		reversals: transferreversal.Client{B: b, Key: key}}
}

// CreateExpressAccount creates an Express Connect account in Italy for a
// provider, able to receive transfers, and returns its id. A retried call
// with the same idempotency key gets the same account, not a second one.
func (s *Stripe) CreateExpressAccount(ctx context.Context, idempotencyKey string, providerID uuid.UUID, email string) (string, error) {
	p := &stripe.AccountParams{
		Type:    stripe.String(string(stripe.AccountTypeExpress)),
		Country: stripe.String("IT"),
		Capabilities: &stripe.AccountCapabilitiesParams{
			Transfers: &stripe.AccountCapabilitiesTransfersParams{Requested: stripe.Bool(true)},
		},
	}
	if email != "" {
		p.Email = stripe.String(email)
	}
	p.Context = ctx
	p.SetIdempotencyKey("connect-account-" + idempotencyKey)
	p.AddMetadata("provider_id", providerID.String())
	a, err := s.accounts.New(p)
	if err != nil {
		return "", err
	}
	return a.ID, nil
}

// OnboardingLink returns a one-time link to Stripe's hosted onboarding.
func (s *Stripe) OnboardingLink(ctx context.Context, accountID, refreshURL, returnURL string) (string, error) {
	p := &stripe.AccountLinkParams{
		Account:    stripe.String(accountID),
		RefreshURL: stripe.String(refreshURL),
		ReturnURL:  stripe.String(returnURL),
		Type:       stripe.String("account_onboarding"),
	}
	p.Context = ctx
	l, err := s.links.New(p)
	if err != nil {
		return "", err
	}
	return l.URL, nil
}
