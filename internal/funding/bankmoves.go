package funding

import (
	"context"
	"slices"
	"strings"
	"time"
)

// BankMove is money the platform's bank account moved for another part of
// the platform (the treasury's moves to and from Stripe, provider payouts
// by SEPA file), as that part recorded it. A bank statement's lines for
// them are matched like receipts, so they are checked rather than
// reported as unrecorded.
type BankMove struct {
	// Ref is what the statement names the move by: its CRO, or a reference
	// the line's description carries (a payment file's message id).
	Ref    string
	Amount int64 // positive: money in
	Day    time.Time
}

// BankMoves lists the moves of the instants [start, end).
type BankMoves func(ctx context.Context, start, end time.Time) ([]BankMove, error)

// MatchBankMoves makes the bank reconciliation match the statement with
// what moves lists too (app wiring: funding does not know who moves).
func (s *Service) MatchBankMoves(moves BankMoves) { s.bankMoves = moves }

// matchBankMoves matches each move with a statement line no receipt
// matched: by its CRO first, else by a description carrying its reference.
// A move with no line, or with another amount, is a difference.
func matchBankMoves(r *Reconciliation, period []StatementLine, matched map[int]bool, moves []BankMove) {
	for _, m := range moves {
		ref := NormaliseReference(m.Ref)
		free := func(l StatementLine) bool { return ref != "" && !matched[l.Line] }
		i := slices.IndexFunc(period, func(l StatementLine) bool { return free(l) && l.CRO == ref })
		if i < 0 {
			i = slices.IndexFunc(period, func(l StatementLine) bool {
				return free(l) && strings.Contains(NormaliseReference(l.Reference), ref)
			})
		}
		if i < 0 {
			r.Differences = append(r.Differences, Difference{"bank", CauseBankMissing, m.Day, m.Ref, m.Amount, 0})
			continue
		}
		matched[period[i].Line] = true
		if period[i].Amount != m.Amount {
			r.Differences = append(r.Differences, Difference{"bank", CauseBankAmount, m.Day, m.Ref, m.Amount, period[i].Amount})
		}
	}
}
