package redemption

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/ledger"
)

// bookAlone books a service arranged with the provider (no slot), sent
// with an idempotency key, in two statements and no transaction of its
// own: the offering is read, then one statement claims the key, places
// the ledger hold, writes the voucher, queues its mails and stores the
// answer, all committed together or not at all. Nothing else a booking
// does needs a transaction around those: a slot's place, the fringe meter
// and the provider's first payable account do (done is false: Book's
// transaction does it all instead).
//
// Without a key the booking is Book's transaction too: database/sql sends
// a statement of its own again on a new connection when the first one
// died before it answered (driver.ErrBadConn), perhaps after the commit;
// with the key, that second run is a replay, without one it would be a
// second booking. Errors as Book's.
func (s *Service) bookAlone(ctx context.Context, p *auth.Principal, in BookInput, key string) (v Voucher, done bool, err error) {
	if in.SlotID != nil || key == "" {
		return Voucher{}, false, nil
	}
	var o bookable
	if err := s.getPrepared(ctx, nil, &o, bookableQuery, in.OfferingID); err != nil {
		// Book's transaction claims the key before it reads the offering:
		// a retry of a booking whose offering was withdrawn since gets its
		// voucher, not a not_found
		return Voucher{}, false, nil
	}
	if _, known := s.payables.Load(o.ProviderID); !known || o.Availability == "slots" || IsFringe(o.TaxBucket) {
		return Voucher{}, false, nil
	}
	if err := db.CheckKey(key); err != nil {
		return Voucher{}, true, err
	}
	hash, err := db.RequestHash(bookOperation, in)
	if err != nil {
		return Voucher{}, true, err
	}
	v = s.draftVoucher(p, o, in.Quantity, s.cfg.Now())
	for attempt := 1; ; attempt++ {
		v.ID, v.Code = uuid.New(), newCode()
		var replay []byte
		replay, err = s.writeBooking(ctx, p, key, hash, &v, o.ProviderMail)
		switch {
		case err == nil && replay != nil:
			var out Voucher
			return out, true, json.Unmarshal(replay, &out)
		case err == nil:
			s.alone.books.Add(1)
			return v, true, nil
		case attempt < maxAloneAttempts && db.IsUniqueViolation(err, "vouchers_code_key"):
			continue // nothing was written: again, with a new code
		case attempt < maxAloneAttempts && db.Retryable(err) && ctx.Err() == nil:
			aloneBackoff(ctx, attempt)
			continue // nothing was written: again
		}
		return Voucher{}, true, db.MapError(db.KeyConflict(holdError(ledger.MapError(err), v)), "voucher")
	}
}

// bookOperation is the booking's idempotency scope.
const bookOperation = "redemption.book"

// writeBooking is bookAlone's statement: nothing is written unless the
// claim got the key and found no answer; a stored answer is returned.
func (s *Service) writeBooking(ctx context.Context, p *auth.Principal, key string, hash []byte, v *Voucher, providerMail string) ([]byte, error) {
	to, subjects, bodies, err := s.bookedMails(p.Email, providerMail, *v)
	if err != nil {
		return nil, err
	}
	hold, err := ledger.EmbedHold(holdRequest(*v), 23)
	if err != nil {
		return nil, err
	}
	answer, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	// The hold is placed only past the claim: the call is in the target
	// list of h, run once per row of k that passed the gate, never without
	// one.
	query := `WITH k AS MATERIALIZED (SELECT * FROM idempotency_claim($24, $25, $26)),
		h AS MATERIALIZED (SELECT (` + hold.Call + `).tx_id AS tx_id FROM k WHERE k.got AND k.response IS NULL),
		v AS (INSERT INTO vouchers (` + issuedColumns + `)
			SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, h.tx_id FROM h
			RETURNING created_at, hold_id),
		m AS (INSERT INTO mail_outbox (to_addr, subject, body)
			SELECT * FROM unnest($20::text[], $21::text[], $22::text[]) WHERE EXISTS (SELECT FROM v)),
		a AS (` + db.AnswerInsert(24, `$28::jsonb || jsonb_build_object('hold_id', v.hold_id, 'created_at', v.created_at)`) + ` FROM v)
		SELECT ` + db.ClaimColumns + `, v.created_at, v.hold_id FROM k LEFT JOIN v ON true`
	args := append(issuedValues(v), to, subjects, bodies, hold.Arg, p.UserID, bookOperation, key, hash, string(answer))
	var row struct {
		db.Claim
		CreatedAt *time.Time `db:"created_at"`
		HoldID    *int64     `db:"hold_id"`
	}
	if err := s.getPrepared(ctx, nil, &row, query, args...); err != nil {
		return nil, err
	}
	if stored, err := row.Stored(hash); err != nil || stored != nil {
		return stored, err
	}
	if row.CreatedAt == nil || row.HoldID == nil {
		return nil, errors.New("redemption: the booking statement wrote no voucher")
	}
	v.CreatedAt, v.HoldID = *row.CreatedAt, *row.HoldID
	return nil, nil
}

// bookableQuery reads an active offering of an approved provider.
const bookableQuery = `SELECT ` + bookableColumns + bookableFrom + `
	WHERE o.id = $1 AND o.status = 'active' AND pr.status = 'approved'`
