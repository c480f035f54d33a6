package redemption

import (
	"context"
	"database/sql"
	"errors"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/catalog"
	"github.com/reciproca/reciproca/internal/plans"
)

// The fringe-benefit meter (TUIR art. 51 c.3, docs of the plans domain):
// a voucher of a fringe-type category counts on its employee's meter for
// the tax year it is issued in, +amount at booking and back down when the
// credits come back (cancellation, expiry, refund). Each movement runs in
// the transaction of the voucher's change, after its ledger call: every
// path takes the ledger's locks first and the meter's lock second, so a
// booking and a cancellation of one employee never wait on each other in
// opposite orders.

// IsFringe reports whether a tax bucket counts on the fringe meter.
func IsFringe(taxBucket string) bool { return taxBucket == string(catalog.TaxFringe) }

// fringeRef is the meter row of a voucher's issue; its reversals are
// suffixed to it.
func fringeRef(v Voucher) string { return "voucher:" + v.ID.String() + ":fringe" }

// chargeFringe counts a fringe-type voucher being issued. A booking that
// would take the year past the ceiling is refused by plans.ChargeFringe
// (conflict, reason fringe_ceiling, remaining_cents: the room left).
func (s *Service) chargeFringe(ctx context.Context, tx *sqlx.Tx, v Voucher) error {
	if !IsFringe(v.TaxBucket) {
		return nil
	}
	_, err := plans.ChargeFringe(ctx, tx, v.EmployeeID, s.cfg.Now().In(rome).Year(), v.AmountCents, fringeRef(v))
	return err
}

// unchargeFringe takes cents of voucher v back off the meter of the year
// it was counted in, once per suffix (a retry or a second cancellation
// changes nothing). A voucher never counted (not fringe-type, or issued
// before the meter existed) is left alone.
func (s *Service) unchargeFringe(ctx context.Context, tx *sqlx.Tx, v Voucher, cents int64, suffix string) error {
	if !IsFringe(v.TaxBucket) || cents <= 0 {
		return nil
	}
	var year int
	err := tx.GetContext(ctx, &year, `SELECT tax_year FROM fringe_meter WHERE reference = $1`, fringeRef(v))
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = plans.ChargeFringe(ctx, tx, v.EmployeeID, year, -cents, fringeRef(v)+":"+suffix)
	return err
}

// FringeRoomFor is the employee's fringe room this year when category is
// fringe-type (nil otherwise): what the booking page shows next to the
// credits, so a booking the ceiling would refuse is seen coming.
func (s *Service) FringeRoomFor(ctx context.Context, user uuid.UUID, category string) (*plans.FringeRoom, error) {
	var bucket string
	err := s.db.GetContext(ctx, &bucket, `SELECT tax_bucket FROM catalog_categories WHERE code = $1`, category)
	if errors.Is(err, sql.ErrNoRows) || err == nil && !IsFringe(bucket) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	room, err := plans.Room(ctx, s.db, user, s.cfg.Now().In(rome).Year())
	if err != nil {
		return nil, err
	}
	return &room, nil
}
