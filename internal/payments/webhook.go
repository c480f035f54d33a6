package payments

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	stripe "github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/reciproca/reciproca/internal/apperr"
)

// Handler reacts to one verified Stripe event. It must be idempotent:
// Stripe delivers at least once, and in any order. An invalid error is
// answered 400 (Stripe gives up); any other error 500 (Stripe retries).
type Handler func(ctx context.Context, e stripe.Event) error

// Webhooks verifies Stripe's signature on each delivery and dispatches the
// event to the handler registered for its type.
type Webhooks struct {
	secret    string
	tolerance time.Duration
	handlers  map[stripe.EventType]Handler
}

// maxEventBytes bounds a delivery; Stripe's events are a few kilobytes.
const maxEventBytes = 1 << 20

// NewWebhooks returns a dispatcher that accepts only events signed with
// secret less than five minutes ago (older ones are replays).
func NewWebhooks(secret string) *Webhooks {
	return &Webhooks{secret: secret, tolerance: webhook.DefaultTolerance, handlers: map[stripe.EventType]Handler{}}
}

// On registers h for events of type t (one handler per type).
func (w *Webhooks) On(t stripe.EventType, h Handler) {
	if _, dup := w.handlers[t]; dup {
		panic("payments: two handlers for " + string(t))
	}
	w.handlers[t] = h
}

// Handle is the echo handler of POST /webhooks/stripe.
func (w *Webhooks) Handle(c echo.Context) error {
	payload, err := io.ReadAll(io.LimitReader(c.Request().Body, maxEventBytes+1))
	if err != nil || len(payload) > maxEventBytes {
		return reply(c, http.StatusBadRequest, "unreadable or oversized event")
	}
	e, err := webhook.ConstructEventWithOptions(payload, c.Request().Header.Get("Stripe-Signature"), w.secret,
		webhook.ConstructEventOptions{Tolerance: w.tolerance, IgnoreAPIVersionMismatch: true})
	if err != nil {
		slog.WarnContext(c.Request().Context(), "stripe webhook refused", "err", err)
		return reply(c, http.StatusBadRequest, "invalid signature")
	}
	h, ok := w.handlers[e.Type]
	if !ok {
		return reply(c, http.StatusOK, "ignored")
	}
	if err := h(c.Request().Context(), e); err != nil {
		if apperr.Is(err, apperr.Invalid) {
			slog.WarnContext(c.Request().Context(), "stripe event refused", "type", e.Type, "id", e.ID, "err", err)
			return reply(c, http.StatusBadRequest, "event refused")
		}
		return err
	}
	return reply(c, http.StatusOK, "ok")
}

func reply(c echo.Context, status int, msg string) error {
	return c.JSON(status, map[string]string{"status": msg})
}

// AccountStatus is what an account.updated event says about a Connect
// account.
type AccountStatus struct {
	AccountID        string
	DetailsSubmitted bool
	ChargesEnabled   bool
	PayoutsEnabled   bool
	// At is when Stripe created the event: later updates win.
	At time.Time
}

// OnAccountUpdated registers fn for account.updated events.
func (w *Webhooks) OnAccountUpdated(fn func(ctx context.Context, s AccountStatus) error) {
	w.On(stripe.EventTypeAccountUpdated, func(ctx context.Context, e stripe.Event) error {
		var a stripe.Account
		if e.Data == nil || json.Unmarshal(e.Data.Raw, &a) != nil || a.ID == "" {
			return apperr.New(apperr.Invalid, "account.updated without an account")
		}
		return fn(ctx, AccountStatus{AccountID: a.ID, DetailsSubmitted: a.DetailsSubmitted,
			ChargesEnabled: a.ChargesEnabled, PayoutsEnabled: a.PayoutsEnabled, At: time.Unix(e.Created, 0).UTC()})
	})
}
