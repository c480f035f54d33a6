package payments

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"
	stripe "github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/reciproca/reciproca/internal/apperr"
)

// Endpoint is which of Stripe's webhook endpoints an event came to. Stripe
// sends a connected account's events (account.updated, payout.*) only to
// an endpoint created for Connect, which has its own signing secret.
type Endpoint string

const (
	// Platform events (our own account): POST /webhooks/stripe.
	Platform Endpoint = "platform"
	// Connect events (providers' accounts): POST /webhooks/stripe/connect.
	Connect Endpoint = "connect"
)

// Handler handles one stored event inside tx, the transaction that also
// marks the event processed: the effect and the mark commit together, so
// an event is handled exactly once. Stripe delivers in no particular
// order, so a handler is a one-way state machine on our record: an event
// older than what the record already reflects changes nothing.
//
// An invalid error refuses the event for good (it is logged and never
// retried); any other error rolls back and the event is retried later.
// A handler must not call Stripe: that would hold tx's locks meanwhile.
type Handler func(ctx context.Context, tx *sqlx.Tx, e stripe.Event) error

// Inbox stores verified Stripe events and hands them to their handlers.
type Inbox struct {
	db       *sqlx.DB
	secrets  map[Endpoint]string
	handlers map[handlerKey]Handler
	// stored is called after an event is stored (the app wakes the worker).
	stored func()
}

type handlerKey struct {
	endpoint Endpoint
	typ      stripe.EventType
}

// maxEventBytes bounds a delivery; Stripe's events are a few kilobytes.
const maxEventBytes = 1 << 20

// NewInbox returns an inbox whose endpoints accept events signed with
// platformSecret and connectSecret less than five minutes ago (older
// signatures are replays). stored, when not nil, is called after each new
// event is stored.
func NewInbox(dbx *sqlx.DB, platformSecret, connectSecret string, stored func()) *Inbox {
	if stored == nil {
		stored = func() {}
	}
	return &Inbox{db: dbx, secrets: map[Endpoint]string{Platform: platformSecret, Connect: connectSecret},
		handlers: map[handlerKey]Handler{}, stored: stored}
}

// On registers h for events of type t arriving at endpoint (one handler
// per endpoint and type). Register before the first delivery.
func (in *Inbox) On(endpoint Endpoint, t stripe.EventType, h Handler) {
	k := handlerKey{endpoint, t}
	if _, dup := in.handlers[k]; dup {
		panic("payments: two handlers for " + string(t) + " at the " + string(endpoint) + " endpoint")
	}
	in.handlers[k] = h
}

// Receive returns the echo handler of one endpoint. It verifies the
// signature, stores the event (a second delivery of a stored event changes
// nothing) and answers 200; an event of a type nobody handles is stored as
// ignored. When the event cannot be stored (the database is down) it
// answers 500 and Stripe delivers it again later.
func (in *Inbox) Receive(endpoint Endpoint) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		payload, err := io.ReadAll(io.LimitReader(c.Request().Body, maxEventBytes+1))
		if err != nil || len(payload) > maxEventBytes {
			return reply(c, http.StatusBadRequest, "unreadable or oversized event")
		}
		e, err := webhook.ConstructEventWithOptions(payload, c.Request().Header.Get("Stripe-Signature"), in.secrets[endpoint],
			webhook.ConstructEventOptions{Tolerance: webhook.DefaultTolerance, IgnoreAPIVersionMismatch: true})
		if err != nil {
			slog.WarnContext(ctx, "stripe webhook refused", "endpoint", endpoint, "err", err)
			return reply(c, http.StatusBadRequest, "invalid signature")
		}
		if e.ID == "" || e.Type == "" {
			return reply(c, http.StatusBadRequest, "an event needs an id and a type")
		}
		_, handled := in.handlers[handlerKey{endpoint, e.Type}]
		isNew, err := storeEvent(ctx, in.db, endpoint, e, payload, handled)
		if err != nil {
			return apperr.Wrap(err, "storing stripe event %s", e.ID)
		}
		switch {
		case !isNew:
			return reply(c, http.StatusOK, "duplicate")
		case !handled:
			return reply(c, http.StatusOK, "ignored")
		}
		in.stored()
		return reply(c, http.StatusOK, "stored")
	}
}

func reply(c echo.Context, status int, msg string) error {
	return c.JSON(status, map[string]string{"status": msg})
}

// AccountStatus is what an account.updated event says about a Connect
// account.
type AccountStatus struct {
	AccountID string
	// ProviderID is the provider the account was created for (its
	// metadata), which finds the provider even before the account id is
	// recorded on it.
	ProviderID       string
	DetailsSubmitted bool
	ChargesEnabled   bool
	PayoutsEnabled   bool
	// At is when Stripe created the event: later updates win.
	At time.Time
}

// OnAccountUpdated registers fn for account.updated events of connected
// accounts.
func (in *Inbox) OnAccountUpdated(fn func(ctx context.Context, tx *sqlx.Tx, s AccountStatus) error) {
	in.On(Connect, stripe.EventTypeAccountUpdated, func(ctx context.Context, tx *sqlx.Tx, e stripe.Event) error {
		var a stripe.Account
		if e.Data == nil || json.Unmarshal(e.Data.Raw, &a) != nil || a.ID == "" {
			return apperr.New(apperr.Invalid, "account.updated without an account")
		}
		return fn(ctx, tx, AccountStatus{AccountID: a.ID, ProviderID: a.Metadata["provider_id"], DetailsSubmitted: a.DetailsSubmitted,
			ChargesEnabled: a.ChargesEnabled, PayoutsEnabled: a.PayoutsEnabled, At: time.Unix(e.Created, 0).UTC()})
	})
}

// PayoutFailure is a connected account's bank payout that failed: Stripe
// put the money back on the account's Stripe balance.
type PayoutFailure struct {
	AccountID string
	PayoutID  string
	Amount    int64 // euro cents
	Code      string
	Message   string
	At        time.Time
}

// OnPayoutFailed registers fn for payout.failed events of connected
// accounts (their own payouts to their banks, not the platform's).
func (in *Inbox) OnPayoutFailed(fn func(ctx context.Context, tx *sqlx.Tx, f PayoutFailure) error) {
	in.On(Connect, stripe.EventTypePayoutFailed, func(ctx context.Context, tx *sqlx.Tx, e stripe.Event) error {
		var p stripe.Payout
		if e.Data == nil || json.Unmarshal(e.Data.Raw, &p) != nil || p.ID == "" || e.Account == "" {
			return apperr.New(apperr.Invalid, "payout.failed without a payout or an account")
		}
		if p.Currency != "" && p.Currency != stripe.CurrencyEUR {
			return apperr.New(apperr.Invalid, "payout.failed in %s: only euro payouts are expected", p.Currency)
		}
		return fn(ctx, tx, PayoutFailure{AccountID: e.Account, PayoutID: p.ID, Amount: p.Amount, Code: string(p.FailureCode),
			Message: p.FailureMessage, At: time.Unix(e.Created, 0).UTC()})
	})
}
