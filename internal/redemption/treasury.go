package redemption

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/ledger"
)

// The platform's treasury (docs/ledger.md): its Stripe account uses manual
// payouts, so money moves between the Stripe balance and the bank account
// only when a platform admin records the move; the ledger's platform:stripe
// then keeps matching what Stripe holds, which is what the payout worker's
// balance check and a provider transfer rely on.

// Treasury move directions.
const (
	ToBank   = "to_bank"   // a payout of the Stripe balance to the bank
	ToStripe = "to_stripe" // a top-up of the Stripe balance from the bank
)

// TreasuryMove is one recorded move between the Stripe balance and the bank.
type TreasuryMove struct {
	ID          uuid.UUID `json:"id" db:"id"`
	Direction   string    `json:"direction" db:"direction"`
	AmountCents int64     `json:"amount_cents" db:"amount_cents"`
	Reference   string    `json:"reference" db:"reference"`
	Note        string    `json:"note" db:"note"`
	TxID        int64     `json:"tx_id" db:"tx_id"`
	CreatedBy   uuid.UUID `json:"created_by" db:"created_by"`
	CreatedAt   time.Time `json:"created_at" db:"created_at"`
}

// TreasuryMoveInput is what an admin records: the direction, the amount,
// Stripe's payout id or the bank's CRO, and a note.
type TreasuryMoveInput struct {
	Direction   string `json:"direction"`
	AmountCents int64  `json:"amount_cents"`
	Reference   string `json:"reference"`
	Note        string `json:"note"`
}

// Treasury is the platform's money by where it is, as the ledger has it,
// with the latest moves and Connect fees.
type Treasury struct {
	StripeCents, BankCents int64
	Moves                  []TreasuryMove
	ConnectFees            []ConnectFee
}

// treasuryAdmin checks p may see and move the platform's money.
func treasuryAdmin(p *auth.Principal) error {
	if p == nil {
		return apperr.New(apperr.Unauthorized, "sign in to continue")
	}
	if !p.Has(auth.RolePlatformAdmin) {
		return apperr.New(apperr.Forbidden, "only a platform admin manages the platform's treasury")
	}
	return nil
}

// movePostings is the ledger posting of a move: the account the money
// reaches is debited (assets grow with debits), the one it leaves credited.
func movePostings(direction string, amount int64) []ledger.Posting {
	stripe, bank := treasury[PayoutStripe].Path, treasury[PayoutSEPA].Path
	if direction == ToBank {
		return []ledger.Posting{{From: bank, To: stripe, Amount: amount}}
	}
	return []ledger.Posting{{From: stripe, To: bank, Amount: amount}}
}

// RecordTreasuryMove records that money moved between the platform's
// Stripe balance and its bank account, as a ledger transaction. With an
// idempotency key a retry answers the first move.
//
// Errors: unauthorized, forbidden (not a platform admin), invalid
// (direction, amount, reference or note; an amount larger than what the
// ledger has on the account it leaves: details.available).
func (s *Service) RecordTreasuryMove(ctx context.Context, p *auth.Principal, in TreasuryMoveInput, key string) (TreasuryMove, error) {
	if err := treasuryAdmin(p); err != nil {
		return TreasuryMove{}, err
	}
	in.Reference, in.Note = strings.TrimSpace(in.Reference), strings.TrimSpace(in.Note)
	switch {
	case in.Direction != ToBank && in.Direction != ToStripe:
		return TreasuryMove{}, apperr.New(apperr.Invalid, "choose where the money went: to_bank or to_stripe").With("field", "direction")
	case in.AmountCents <= 0:
		return TreasuryMove{}, apperr.New(apperr.Invalid, "the amount must be more than zero").With("field", "amount_cents")
	case in.AmountCents > ledger.MaxAmount:
		return TreasuryMove{}, apperr.New(apperr.Invalid, "one move is at most %s", euro(ledger.MaxAmount)).
			With("field", "amount_cents").With("reason", "too_large")
	case len(in.Reference) > 100:
		return TreasuryMove{}, apperr.New(apperr.Invalid, "the reference is at most 100 characters").With("field", "reference")
	case len(in.Note) > 500:
		return TreasuryMove{}, apperr.New(apperr.Invalid, "the note is at most 500 characters").With("field", "note")
	}
	var out TreasuryMove
	_, err := db.Idempotent(ctx, s.db, db.Scope{Caller: p.UserID, Operation: "redemption.treasury_move"}, key, in, &out,
		func(tx *sqlx.Tx) error {
			for _, spec := range treasury {
				if _, err := ledger.CreateAccount(ctx, tx, spec); err != nil {
					return err
				}
			}
			from := movePostings(in.Direction, in.AmountCents)[0].To // the account the money leaves
			bal, err := ledger.GetBalance(ctx, tx, from)
			if err != nil {
				return err
			}
			if bal.Available < in.AmountCents {
				return apperr.New(apperr.Invalid, "%s holds %s in the ledger: the move cannot be larger", from, euro(bal.Available)).
					With("field", "amount_cents").With("reason", "more_than_held").With("available", bal.Available)
			}
			id := uuid.New()
			res, err := ledger.Post(ctx, tx, ledger.Request{Key: "treasury:" + id.String(), Kind: "treasury." + in.Direction,
				Reference: "treasury:" + id.String(), Postings: movePostings(in.Direction, in.AmountCents),
				Metadata: map[string]any{"reference": in.Reference}})
			if err != nil {
				return err
			}
			return tx.GetContext(ctx, &out, `INSERT INTO treasury_moves (id, direction, amount_cents, reference, note, tx_id, created_by)
				VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING `+treasuryMoveColumns,
				id, in.Direction, in.AmountCents, in.Reference, in.Note, res.TxID, p.UserID)
		})
	return out, err
}

const treasuryMoveColumns = `id, direction, amount_cents, reference, note, tx_id, created_by, created_at`

// TreasuryMoves lists the latest moves, newest first (platform admins).
func (s *Service) TreasuryMoves(ctx context.Context, p *auth.Principal, limit int) ([]TreasuryMove, error) {
	if err := treasuryAdmin(p); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	out := []TreasuryMove{}
	err := s.db.SelectContext(ctx, &out, `SELECT `+treasuryMoveColumns+` FROM treasury_moves
		ORDER BY created_at DESC, id LIMIT $1`, limit)
	return out, err
}

// TreasuryNow is the platform's money by place (the ledger's balances of
// platform:stripe and platform:bank), with the latest moves and Connect
// fees (platform admins).
func (s *Service) TreasuryNow(ctx context.Context, p *auth.Principal) (Treasury, error) {
	var t Treasury
	var err error
	if t.Moves, err = s.TreasuryMoves(ctx, p, 20); err != nil {
		return t, err
	}
	for path, dest := range map[string]*int64{treasury[PayoutStripe].Path: &t.StripeCents, treasury[PayoutSEPA].Path: &t.BankCents} {
		b, err := ledger.GetBalance(ctx, s.db, path)
		if err != nil && !apperr.Is(err, apperr.NotFound) {
			return t, err
		}
		*dest = b.Available
	}
	t.ConnectFees, err = s.connectFees(ctx, 20)
	return t, err
}
