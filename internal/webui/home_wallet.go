package webui

import (
	"time"

	"github.com/labstack/echo/v4"

	"github.com/reciproca/reciproca/internal/auth"
)

// walletOverview is an employee's credits at a glance on their home page:
// what they can spend, what their bookings set aside, and the credit that
// expires first.
type walletOverview struct {
	AvailableCents, HeldCents int64
	// ExpiringCents is what is left of the credit whose last day comes
	// first, LastDay.
	ExpiringCents int64
	LastDay       *time.Time
}

// walletFor gathers p's wallet figures, or nil for anyone who is not an
// employee.
func (u *UI) walletFor(c echo.Context, p *auth.Principal) (*walletOverview, error) {
	if !p.Has(auth.RoleEmployee) || u.deps.Plans == nil {
		return nil, nil
	}
	w, err := u.deps.Plans.MyWallet(c.Request().Context(), p)
	if err != nil {
		return nil, err
	}
	o := &walletOverview{AvailableCents: w.BalanceCents, HeldCents: w.HeldCents}
	for _, l := range w.Lots {
		if l.RemainingCents <= 0 || l.LastDay == nil {
			continue
		}
		switch {
		case o.LastDay == nil || l.LastDay.Before(*o.LastDay):
			o.LastDay, o.ExpiringCents = l.LastDay, l.RemainingCents
		case l.LastDay.Equal(*o.LastDay):
			o.ExpiringCents += l.RemainingCents
		}
	}
	return o, nil
}
