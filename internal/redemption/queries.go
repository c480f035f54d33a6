package redemption

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
)

// MyVouchers lists the signed-in employee's vouchers, newest first, of
// one status or all (status ""). Errors: unauthorized, forbidden.
func (s *Service) MyVouchers(ctx context.Context, p *auth.Principal, status Status, limit int) ([]Voucher, error) {
	if p == nil {
		return nil, apperr.New(apperr.Unauthorized, "sign in to continue")
	}
	if !p.Has(auth.RoleEmployee) {
		return nil, apperr.New(apperr.Forbidden, "only employees have vouchers")
	}
	if limit <= 0 || limit > 200 {
		limit = 100
	}
	return listVouchers(ctx, s.db, scope{employee: &p.UserID}, status, limit)
}

// Voucher returns one voucher the caller may see: an employee their own,
// a provider's staff their provider's, a platform admin any.
// Errors: unauthorized, not_found.
func (s *Service) Voucher(ctx context.Context, p *auth.Principal, id uuid.UUID) (Voucher, error) {
	sc, err := viewer(p)
	if err != nil {
		return Voucher{}, err
	}
	return getVoucher(ctx, s.db, sc, "id", id, false)
}

// Refunds lists a voucher's refunds, for whoever may see the voucher.
func (s *Service) Refunds(ctx context.Context, p *auth.Principal, id uuid.UUID) ([]Refund, error) {
	if _, err := s.Voucher(ctx, p, id); err != nil {
		return nil, err
	}
	return listRefunds(ctx, s.db, id)
}

func viewer(p *auth.Principal) (scope, error) {
	switch {
	case p == nil:
		return scope{}, apperr.New(apperr.Unauthorized, "sign in to continue")
	case p.Has(auth.RolePlatformAdmin):
		return scope{}, nil
	case p.Has(auth.RoleProviderStaff) && p.OrgKind == auth.OrgProvider:
		return scope{provider: &p.OrgID}, nil
	case p.Has(auth.RoleEmployee):
		return scope{employee: &p.UserID}, nil
	}
	return scope{}, apperr.New(apperr.NotFound, "voucher not found")
}

// ProviderDay lists the provider's vouchers whose service day (Italian
// time) is day's, in slot order; the zero day is today.
// Errors: unauthorized, forbidden.
func (s *Service) ProviderDay(ctx context.Context, p *auth.Principal, day time.Time) ([]Voucher, error) {
	prov, err := providerOf(p)
	if err != nil {
		return nil, err
	}
	if day.IsZero() {
		day = s.cfg.Now()
	}
	return providerDay(ctx, s.db, prov, startOfDay(day))
}

// Day returns the Italian day named by date (YYYY-MM-DD), today when
// empty. Errors: invalid.
func (s *Service) Day(date string) (time.Time, error) {
	if date == "" {
		return startOfDay(s.cfg.Now()), nil
	}
	d, err := time.ParseInLocation("2006-01-02", date, rome)
	if err != nil {
		return time.Time{}, apperr.New(apperr.Invalid, "the day must look like 2026-03-31").With("field", "date")
	}
	return d, nil
}

// ValidationURL is the link the voucher's QR code carries: the provider's
// validation page with the code filled in.
func (s *Service) ValidationURL(v Voucher) string {
	return s.cfg.BaseURL + ValidatePath + "?codice=" + v.Code
}

// ValidatePath is the provider's validation page.
const ValidatePath = "/erogatore/convalida"

// PlacesLeft returns, for each slot of an offering that has not started,
// how many places are still free.
func (s *Service) PlacesLeft(ctx context.Context, offering uuid.UUID) (map[uuid.UUID]int, error) {
	var rows []struct {
		ID   uuid.UUID `db:"id"`
		Left int       `db:"left"`
	}
	err := s.db.SelectContext(ctx, &rows, `SELECT s.id, s.capacity - (SELECT count(*) FROM vouchers v WHERE v.slot_id = s.id
			AND v.status IN ('booked', 'validated', 'no_show')) AS left
		FROM offering_slots s WHERE s.offering_id = $1 AND s.starts_at > $2`, offering, s.cfg.Now())
	out := make(map[uuid.UUID]int, len(rows))
	for _, r := range rows {
		out[r.ID] = max(r.Left, 0)
	}
	return out, err
}
