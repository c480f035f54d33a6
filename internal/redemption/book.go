package redemption

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/ledger"
)

// BookInput is what an employee books: an offering, a quantity of its
// unit (1 session, 4 hours …) and, when the offering has slots, a slot.
type BookInput struct {
	OfferingID uuid.UUID  `json:"offering_id"`
	Quantity   int        `json:"quantity"`
	SlotID     *uuid.UUID `json:"slot_id,omitempty"`
}

// MaxQuantity bounds one booking's quantity.
const MaxQuantity = 100

// bookable is an offering as a booking sees it, read in the booking's
// transaction.
type bookable struct {
	ID           uuid.UUID `db:"id"`
	ProviderID   uuid.UUID `db:"provider_id"`
	ProviderName string    `db:"provider_name"`
	ProviderMail string    `db:"provider_email"`
	Title        string    `db:"title"`
	Category     string    `db:"category"`
	TaxBucket    string    `db:"tax_bucket"`
	PriceCents   int64     `db:"price_cents"`
	Unit         string    `db:"unit"`
	Availability string    `db:"availability"`
}

type slotRow struct {
	ID       uuid.UUID `db:"slot_id"`
	StartsAt time.Time `db:"starts_at"`
	EndsAt   time.Time `db:"ends_at"`
	Capacity int       `db:"capacity"`
	Taken    int       `db:"taken"`
}

// Book books a service for the signed-in employee: the voucher records the
// offering's price, category and tax bucket as they are now; a ledger hold
// reserves the full amount on the wallet (unexpired lots that allow the
// category, earliest expiry first); a place in the slot is taken in the
// same transaction, under the slot's row lock, so a slot is never
// oversold. A fringe-type service counts on the employee's fringe meter
// in the same transaction. The employee is mailed the voucher and the provider a notice.
// With an idempotency key a retry answers the first booking. A booking
// sent with a key, of a service without slots that is not fringe-type,
// commits in one statement of its own instead of a transaction (bookAlone;
// docs/redemption.md).
//
// Errors: unauthorized, forbidden (not an employee), invalid (quantity,
// missing or foreign slot, a slot that has started), not_found (offering
// not bookable), conflict (slot full; key reused or in progress),
// insufficient_funds (details: available for the category, required;
// nothing is held), conflict with reason fringe_ceiling (details:
// remaining_cents, the fringe room left this year).
func (s *Service) Book(ctx context.Context, p *auth.Principal, in BookInput, key string) (Voucher, error) {
	if p == nil {
		return Voucher{}, apperr.New(apperr.Unauthorized, "sign in to book")
	}
	if !p.Has(auth.RoleEmployee) || p.OrgKind != auth.OrgCompany {
		return Voucher{}, apperr.New(apperr.Forbidden, "only employees book services with their welfare credits")
	}
	if in.Quantity < 1 || in.Quantity > MaxQuantity {
		return Voucher{}, apperr.New(apperr.Invalid, "the quantity must be between 1 and %d", MaxQuantity).With("field", "quantity")
	}
	out, done, err := s.bookAlone(ctx, p, in, key)
	if !done {
		_, err = db.Idempotent(ctx, s.db, db.Scope{Caller: p.UserID, Operation: bookOperation}, key, in, &out,
			func(tx *sqlx.Tx) error {
				var err error
				out, err = s.book(ctx, tx, p, in)
				return err
			})
	}
	if apperr.Is(err, apperr.InsufficientFunds) {
		return Voucher{}, s.shortOf(ctx, p.UserID, err)
	}
	if err == nil {
		s.payables.Store(out.ProviderID, struct{}{}) // created, or found, by a committed booking
	}
	return out, err
}

func (s *Service) book(ctx context.Context, tx *sqlx.Tx, p *auth.Principal, in BookInput) (Voucher, error) {
	now := s.cfg.Now()
	o, slot, err := s.readBookable(ctx, tx, in.OfferingID, in.SlotID)
	if err != nil {
		return Voucher{}, err
	}
	v := s.draftVoucher(p, o, in.Quantity, now)
	v.ID = uuid.New()
	switch {
	case o.Availability == "slots" && in.SlotID == nil:
		return Voucher{}, apperr.New(apperr.Invalid, "choose a time slot").With("field", "slot_id")
	case o.Availability != "slots" && in.SlotID != nil:
		return Voucher{}, apperr.New(apperr.Invalid, "this service has no time slots: it is arranged with the provider").With("field", "slot_id")
	case in.SlotID != nil:
		if err := s.takePlace(ctx, tx, &slot, now); err != nil {
			return Voucher{}, err
		}
		v.SlotID, v.StartsAt, v.EndsAt = &slot.ID, &slot.StartsAt, &slot.EndsAt
		v.ValidateFrom = startOfDay(slot.StartsAt)
		v.CancelUntil = slot.StartsAt.Add(-s.cfg.CancelCutoff)
		v.ValidateUntil = v.ValidateFrom.AddDate(0, 0, 1+s.cfg.GraceDays)
	}
	if _, known := s.payables.Load(o.ProviderID); !known {
		if _, err := ledger.CreateAccount(ctx, tx, PayableSpec(o.ProviderID)); err != nil {
			return Voucher{}, err
		}
	}
	hold, err := ledger.Hold(ctx, tx, holdRequest(v))
	if err != nil {
		return Voucher{}, holdError(err, v)
	}
	v.HoldID = hold.TxID
	if err := s.chargeFringe(ctx, tx, v); err != nil {
		return Voucher{}, err
	}
	if err := s.issueVoucher(ctx, tx, &v, p.Email, o.ProviderMail); err != nil {
		return Voucher{}, err
	}
	return v, nil
}

// draftVoucher is the voucher p books of o, quantity qty, at now: the
// offering's price, category and tax bucket as they are now, and the
// window of a service arranged with the provider (valid from today for
// OnRequestDays, cancellable until then); a slot's booking sets its own.
func (s *Service) draftVoucher(p *auth.Principal, o bookable, qty int, now time.Time) Voucher {
	v := Voucher{EmployeeID: p.UserID, EmployeeName: p.Name, CompanyID: p.OrgID, ProviderID: o.ProviderID,
		ProviderName: o.ProviderName, OfferingID: o.ID, OfferingTitle: o.Title, Category: o.Category, TaxBucket: o.TaxBucket,
		Unit: o.Unit, Quantity: qty, UnitPriceCents: o.PriceCents, AmountCents: o.PriceCents * int64(qty),
		Status: Booked, ValidateFrom: startOfDay(now)}
	v.ValidateUntil = v.ValidateFrom.AddDate(0, 0, s.cfg.OnRequestDays)
	v.CancelUntil = v.ValidateUntil
	return v
}

// issuedColumns are the columns a booking writes of its voucher: the
// values of issuedValues ($1 … $19), then hold_id.
const issuedColumns = `id, code, employee_id, company_id, provider_id, offering_id, offering_title, category, tax_bucket,
	unit, quantity, unit_price_cents, amount_cents, slot_id, starts_at, ends_at, cancel_until, validate_from, validate_until, hold_id`

// issuedValues are v's values of issuedColumns but hold_id.
func issuedValues(v *Voucher) []any {
	return []any{v.ID, v.Code, v.EmployeeID, v.CompanyID, v.ProviderID, v.OfferingID, v.OfferingTitle, v.Category, v.TaxBucket,
		v.Unit, v.Quantity, v.UnitPriceCents, v.AmountCents, v.SlotID, v.StartsAt, v.EndsAt, v.CancelUntil,
		v.ValidateFrom, v.ValidateUntil}
}

// holdRequest is the ledger hold of voucher v: its full amount on the
// employee's wallet, for the provider's payable. The hold outlives the
// voucher's validation window by a day, so the voucher's own expiry
// (ExpireVouchers) resolves it first; the ledger's hold sweeper is the
// backstop.
func holdRequest(v Voucher) ledger.HoldRequest {
	return ledger.HoldRequest{ExpiresAt: v.ValidateUntil.Add(24 * time.Hour), Request: ledger.Request{
		Key: "voucher:" + v.ID.String() + ":hold", Kind: "booking", Reference: "voucher:" + v.ID.String(),
		Metadata: map[string]any{"voucher": v.ID.String(), "tax_bucket": v.TaxBucket, "offering": v.OfferingID.String()},
		Postings: []ledger.Posting{{From: WalletPath(v.EmployeeID), To: PayablePath(v.ProviderID), Amount: v.AmountCents,
			Category: v.Category, TaxBucket: v.TaxBucket}},
	}}
}

// holdError is the booking's answer to the hold's refusal err: no wallet
// or not enough eligible credits are insufficient_funds with the amounts.
func holdError(err error, v Voucher) error {
	var ae *apperr.Error
	switch {
	case errors.As(err, &ae) && ae.Code == apperr.NotFound && ae.Fields["account"] == WalletPath(v.EmployeeID):
		// no wallet: the employee has no credits at all
		return apperr.New(apperr.InsufficientFunds, "you have no welfare credits for this service").
			With("available", int64(0)).With("required", v.AmountCents).With("category", v.Category)
	case errors.As(err, &ae) && ae.Code == apperr.InsufficientFunds:
		return ae.With("category", v.Category).With("required", v.AmountCents)
	}
	return err
}

// bookableColumns are what a booking reads of its offering.
const bookableColumns = `o.id, o.provider_id, pr.legal_name AS provider_name, pr.email AS provider_email,
	o.title, o.category, c.tax_bucket, o.price_cents, o.unit, o.availability`

const bookableFrom = ` FROM offerings o JOIN providers pr ON pr.organisation_id = o.provider_id
	JOIN catalog_categories c ON c.code = o.category`

// readBookable reads an active offering of an approved provider and, when
// slot is given, locks that slot of it in the same statement (one round
// trip, prepared): the lock serialises bookings of one slot until the booking
// transaction ends. Errors: not_found (offering), invalid (a slot that is
// not the offering's).
func (s *Service) readBookable(ctx context.Context, tx *sqlx.Tx, offering uuid.UUID, slot *uuid.UUID) (bookable, slotRow, error) {
	var row struct {
		bookable
		slotRow
	}
	if slot == nil {
		err := s.getPrepared(ctx, tx, &row.bookable, bookableQuery, offering)
		return row.bookable, row.slotRow, db.MapError(err, "offering")
	}
	err := s.getPrepared(ctx, tx, &row, `SELECT `+bookableColumns+`, s.id AS slot_id, s.starts_at, s.ends_at, s.capacity`+bookableFrom+`
		JOIN offering_slots s ON s.offering_id = o.id AND s.id = $2
		WHERE o.id = $1 AND o.status = 'active' AND pr.status = 'approved' FOR UPDATE OF s`, offering, *slot)
	if errors.Is(err, sql.ErrNoRows) {
		// Which is missing: the offering (not found) or the slot (invalid)?
		if _, _, err := s.readBookable(ctx, tx, offering, nil); err != nil {
			return bookable{}, slotRow{}, err
		}
		return bookable{}, slotRow{}, apperr.New(apperr.Invalid, "this time slot is not one of the service's").With("field", "slot_id")
	}
	return row.bookable, row.slotRow, db.MapError(err, "offering")
}

// takePlace checks a place is left in the slot readBookable locked,
// counting its bookings after the lock (so a booking that committed
// while this one waited counts).
func (s *Service) takePlace(ctx context.Context, tx *sqlx.Tx, r *slotRow, now time.Time) error {
	if !r.StartsAt.After(now) {
		return apperr.New(apperr.Invalid, "this time slot has already started").With("field", "slot_id")
	}
	if err := s.getPrepared(ctx, tx, &r.Taken, `SELECT count(*) FROM vouchers WHERE slot_id = $1
		AND status IN ('booked', 'validated', 'no_show')`, r.ID); err != nil {
		return err
	}
	if r.Taken >= r.Capacity {
		return apperr.New(apperr.Conflict, "this time slot is full: choose another one").
			With("field", "slot_id").With("reason", "slot_full")
	}
	return nil
}

// issueVoucher writes v with a fresh code and queues the employee's and
// the provider's mails in the same statement: after the hold, the booking
// holds the hold's row locks (the provider's payable) until it commits,
// so what comes after it is one round trip. On the rare code clash
// neither is written and a new code is drawn.
func (s *Service) issueVoucher(ctx context.Context, tx *sqlx.Tx, v *Voucher, employee, provider string) error {
	for range 5 {
		v.Code = newCode()
		to, subjects, bodies, err := s.bookedMails(employee, provider, *v)
		if err != nil {
			return err
		}
		err = s.getPrepared(ctx, tx, &v.CreatedAt, `WITH v AS (INSERT INTO vouchers (`+issuedColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
			ON CONFLICT (code) DO NOTHING RETURNING created_at),
			m AS (INSERT INTO mail_outbox (to_addr, subject, body)
				SELECT * FROM unnest($21::text[], $22::text[], $23::text[]) WHERE EXISTS (SELECT FROM v))
			SELECT created_at FROM v`, append(issuedValues(v), v.HoldID, to, subjects, bodies)...)
		if err == nil {
			return nil
		}
		if !apperr.Is(db.MapError(err, "voucher"), apperr.NotFound) {
			return db.MapError(err, "voucher")
		}
	}
	return apperr.Wrap(errCodeSpace, "issuing a voucher code")
}

var errCodeSpace = apperr.New(apperr.Internal, "no free voucher code after 5 tries")

// shortOf completes an insufficient_funds refusal with what the employee
// can spend on the category, read after the refused booking rolled back.
func (s *Service) shortOf(ctx context.Context, user uuid.UUID, err error) error {
	ae, _ := err.(*apperr.Error)
	if ae == nil {
		return err
	}
	cat, _ := ae.Fields["category"].(string)
	avail, rerr := s.Spendable(ctx, user, cat)
	if rerr != nil {
		return err
	}
	required := ae.Fields["required"]
	return apperr.New(apperr.InsufficientFunds, "not enough welfare credits for this service: %s available for it", euro(avail)).
		With("available", avail).With("required", required).With("category", cat)
}

// Spendable is what the employee can spend now on category (all
// categories when empty): unexpired, unreserved lots that allow it.
func (s *Service) Spendable(ctx context.Context, user uuid.UUID, category string) (int64, error) {
	lots, err := ledger.Lots(ctx, s.db, WalletPath(user))
	if apperr.Is(err, apperr.NotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	now := s.cfg.Now()
	var sum int64
	for _, l := range lots {
		if l.ExpiresAt != nil && !l.ExpiresAt.After(now) {
			continue
		}
		if category != "" && len(l.Categories) > 0 && !contains(l.Categories, category) {
			continue
		}
		sum += l.Remaining
	}
	return sum, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
