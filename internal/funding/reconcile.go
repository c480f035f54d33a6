package funding

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/payments"
)

// Reconciliation compares, for the days [From, To) in Italy, what funding
// recorded (top-ups, bank receipts, Stripe's fees) with the ledger, with
// Stripe's balance transactions, and with a bank statement when one is
// given. Every difference is listed with its cause.
type Reconciliation struct {
	From, To time.Time
	Days     []DayTotals
	// TakeBacks are refunds and disputes by day.
	TakeBacks []DayTakeBacks
	// Stripe is what Stripe's API lists for the period (nil when Stripe
	// could not be asked: StripeError says why).
	Stripe      []payments.BalanceTransaction
	StripeError string
	// Statement is the bank statement's lines, when one was imported.
	Statement   []StatementLine
	Differences []Difference
}

// DayTotals are one day's money in by channel, and Stripe's fees, as
// funding recorded them and as the ledger has them.
type DayTotals struct {
	Day                           time.Time
	Channel                       Channel
	Recorded, Ledger              int64
	FeesRecorded, FeesLedger      int64
	RecordedCount, LedgerPostings int
}

// Difference is one thing that does not agree, with its cause: a stable
// code (the pages translate it) and the amounts on each side.
type Difference struct {
	Source string // ledger, stripe or bank
	Cause  string
	Day    time.Time
	// Ref names the top-up, receipt, ledger transaction, Stripe balance
	// transaction or statement line concerned.
	Ref              string
	Expected, Actual int64
}

// The causes a difference can have.
const (
	CauseLedgerMissing   = "ledger_missing"   // recorded as credited, no ledger posting
	CauseLedgerAmount    = "ledger_amount"    // the ledger posting has another amount
	CauseLedgerUnmatched = "ledger_unmatched" // a ledger posting no top-up or receipt explains
	CauseFeeMismatch     = "fee_mismatch"     // the fee on the top-up is not the fee booked
	CauseStripeMissing   = "stripe_missing"   // a paid card top-up Stripe does not list
	CauseStripeUnmatched = "stripe_unmatched" // a Stripe movement no top-up explains
	CauseStripeAmount    = "stripe_amount"    // Stripe moved another amount
	CauseStripeFee       = "stripe_fee"       // Stripe's fee is not the fee booked
	CauseBankMissing     = "bank_missing"     // recorded, not on the bank statement
	CauseBankUnrecorded  = "bank_unrecorded"  // on the statement, not recorded
	CauseBankAmount      = "bank_amount"      // the statement has another amount
	CauseBankDate        = "bank_date"        // the statement has another value date
)

// maxDays bounds one reconciliation's period.
const maxDays = 92

// Reconcile builds the reconciliation of the days from (inclusive) to to
// (exclusive), asking Stripe for its balance transactions, and matching
// statement when it is not nil.
//
// Errors: forbidden, invalid (fields from, to).
func (s *Service) Reconcile(ctx context.Context, p *auth.Principal, from, to time.Time, statement []StatementLine) (Reconciliation, error) {
	if err := platformAdmin(p); err != nil {
		return Reconciliation{}, err
	}
	from, to = dateIn(from), dateIn(to)
	switch {
	case !to.After(from):
		return Reconciliation{}, invalidField("to", "the period must end after it starts")
	case to.Sub(from) > maxDays*24*time.Hour:
		return Reconciliation{}, invalidField("to", "a period is at most %d days", maxDays)
	}
	r := Reconciliation{From: from, To: to, Statement: statement}
	// The period's instants in Italy.
	start := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, rome)
	end := time.Date(to.Year(), to.Month(), to.Day(), 0, 0, 0, 0, rome)
	if err := s.reconcileLedger(ctx, &r, start, end); err != nil {
		return Reconciliation{}, apperr.Wrap(err, "reconciling with the ledger")
	}
	if err := s.reconcileTakeBacks(ctx, &r, start, end); err != nil {
		return Reconciliation{}, apperr.Wrap(err, "reconciling refunds and disputes")
	}
	if s.stripe != nil {
		bts, err := s.stripe.BalanceTransactions(ctx, start, end, 10_000)
		if err != nil {
			r.StripeError = err.Error()
		} else {
			r.Stripe = bts
			if err := s.reconcileStripe(ctx, &r, start, end); err != nil {
				return Reconciliation{}, apperr.Wrap(err, "reconciling with Stripe")
			}
		}
	}
	if statement != nil {
		if err := s.reconcileBank(ctx, &r, start, end); err != nil {
			return Reconciliation{}, apperr.Wrap(err, "reconciling with the bank statement")
		}
	}
	sort.SliceStable(r.Differences, func(i, j int) bool { return r.Differences[i].Day.Before(r.Differences[j].Day) })
	return r, nil
}

// reconcileLedger matches every credited top-up and receipt, and every
// booked fee, with its ledger transaction (found by its key), both ways.
func (s *Service) reconcileLedger(ctx context.Context, r *Reconciliation, start, end time.Time) error {
	// What funding recorded, one row per credit (card top-up or bank
	// receipt), with the ledger transaction its key names, if any.
	var rows []struct {
		Channel  Channel    `db:"channel"`
		Ref      string     `db:"ref"`
		At       time.Time  `db:"at"`
		Amount   int64      `db:"amount"`
		Fee      *int64     `db:"fee"`
		Ledger   *int64     `db:"ledger"`
		LedgerAt *time.Time `db:"ledger_at"`
		FeeBook  *int64     `db:"fee_booked"`
	}
	err := s.db.SelectContext(ctx, &rows, `
		WITH credits AS (
			SELECT 'card' AS channel, t.id::text AS ref, t.paid_at AS at, t.amount, t.fee, 'topup:' || t.id || ':credit' AS key,
			       'topup:' || t.id || ':fee' AS fee_key
			FROM funding_topups t WHERE t.channel = 'card' AND t.status = 'paid' AND t.paid_at >= $1 AND t.paid_at < $2
			UNION ALL
			SELECT 'bank', r.id::text, (r.value_date::timestamp + interval '12 hours') AT TIME ZONE 'Europe/Rome', r.amount, NULL,
			       'bank-receipt:' || r.id, NULL
			FROM funding_bank_receipts r WHERE r.status = 'credited'
			  AND r.value_date >= ($1 AT TIME ZONE 'Europe/Rome')::date AND r.value_date < ($2 AT TIME ZONE 'Europe/Rome')::date)
		SELECT c.channel, c.ref, c.at, c.amount, c.fee,
		       (SELECT -sum(e.amount) FROM ledger_transactions x JOIN ledger_entries e ON e.tx_id = x.id
		          JOIN ledger_accounts a ON a.id = e.account_id
		        WHERE x.idempotency_key = c.key AND a.path IN ('platform:stripe', 'platform:bank'))::bigint AS ledger,
		       (SELECT x.effective_at FROM ledger_transactions x WHERE x.idempotency_key = c.key) AS ledger_at,
		       (SELECT -sum(e.amount) FROM ledger_transactions x JOIN ledger_entries e ON e.tx_id = x.id
		          JOIN ledger_accounts a ON a.id = e.account_id
		        WHERE x.idempotency_key = c.fee_key AND a.path = 'platform:stripe-fees')::bigint AS fee_booked
		FROM credits c ORDER BY c.at`, start, end)
	if err != nil {
		return err
	}
	days := map[string]*DayTotals{}
	day := func(at time.Time, ch Channel) *DayTotals {
		d := dateIn(at)
		k := d.Format(time.DateOnly) + string(ch)
		if days[k] == nil {
			days[k] = &DayTotals{Day: d, Channel: ch}
		}
		return days[k]
	}
	for _, c := range rows {
		d := day(c.At, c.Channel)
		d.Recorded += c.Amount
		d.RecordedCount++
		switch {
		case c.Ledger == nil:
			r.Differences = append(r.Differences, Difference{"ledger", CauseLedgerMissing, d.Day, c.Ref, c.Amount, 0})
		case *c.Ledger != c.Amount:
			r.Differences = append(r.Differences, Difference{"ledger", CauseLedgerAmount, d.Day, c.Ref, c.Amount, *c.Ledger})
		}
		if c.Fee != nil {
			d.FeesRecorded += *c.Fee
			if booked := deref64(c.FeeBook); booked != *c.Fee {
				r.Differences = append(r.Differences, Difference{"ledger", CauseFeeMismatch, d.Day, c.Ref, *c.Fee, booked})
			}
		}
	}
	// What the ledger has: money in on the platform's Stripe and bank
	// accounts by top-ups, and fees, in the period.
	var postings []struct {
		Key    string    `db:"idempotency_key"`
		TxID   int64     `db:"id"`
		Kind   string    `db:"kind"`
		Path   string    `db:"path"`
		At     time.Time `db:"effective_at"`
		Amount int64     `db:"amount"`
		Known  bool      `db:"known"`
	}
	err = s.db.SelectContext(ctx, &postings, `
		SELECT x.idempotency_key, x.id, x.kind, a.path, x.effective_at, -sum(e.amount)::bigint AS amount,
		       EXISTS (SELECT 1 FROM funding_topups t WHERE x.reference = t.id::text
		                 AND (x.kind = 'stripe.fee' OR t.status = 'paid' AND x.idempotency_key = 'topup:' || t.id || ':credit'))
		       OR EXISTS (SELECT 1 FROM funding_bank_receipts b WHERE x.idempotency_key = 'bank-receipt:' || b.id AND b.status = 'credited') AS known
		FROM ledger_transactions x JOIN ledger_entries e ON e.tx_id = x.id JOIN ledger_accounts a ON a.id = e.account_id
		WHERE x.kind IN ('topup', 'stripe.fee') AND a.path IN ('platform:stripe', 'platform:bank', 'platform:stripe-fees')
		  AND x.effective_at >= $1 AND x.effective_at < $2
		GROUP BY x.id, a.path`, start, end)
	if err != nil {
		return err
	}
	for _, p := range postings {
		switch {
		case p.Kind == "stripe.fee" && p.Path == StripeFeesAccount:
			day(p.At, Card).FeesLedger += p.Amount
		case p.Kind == "topup" && p.Path == StripeAccount:
			d := day(p.At, Card)
			d.Ledger += p.Amount
			d.LedgerPostings++
		case p.Kind == "topup" && p.Path == BankAccount:
			d := day(p.At, Bank)
			d.Ledger += p.Amount
			d.LedgerPostings++
		default:
			continue
		}
		if !p.Known {
			r.Differences = append(r.Differences, Difference{"ledger", CauseLedgerUnmatched, dateIn(p.At), fmt.Sprintf("tx %d (%s)", p.TxID, p.Key), 0, p.Amount})
		}
	}
	for _, d := range days {
		r.Days = append(r.Days, *d)
	}
	sort.Slice(r.Days, func(i, j int) bool {
		if !r.Days[i].Day.Equal(r.Days[j].Day) {
			return r.Days[i].Day.Before(r.Days[j].Day)
		}
		return r.Days[i].Channel < r.Days[j].Channel
	})
	return nil
}

// reconcileStripe matches Stripe's charges with paid card top-ups (by the
// topup_id their PaymentIntent carries, else the PaymentIntent recorded),
// amounts and fees both ways.
func (s *Service) reconcileStripe(ctx context.Context, r *Reconciliation, start, end time.Time) error {
	var paid []TopUp
	if err := s.db.SelectContext(ctx, &paid, `SELECT `+topupCols+topupFrom+`
		WHERE t.channel = 'card' AND t.status = 'paid' AND t.paid_at >= $1 AND t.paid_at < $2`, start, end); err != nil {
		return err
	}
	byRef, byPI := map[string]*TopUp{}, map[string]*TopUp{}
	for i := range paid {
		byRef[paid[i].ID.String()] = &paid[i]
		if pi := paid[i].PaymentIntent; pi != nil {
			byPI[*pi] = &paid[i]
		}
	}
	seen := map[string]bool{}
	for _, bt := range r.Stripe {
		if bt.Type != "charge" && bt.Type != "payment" {
			continue // refunds, disputes, payouts: booked against their top-up, not matched here
		}
		t := byRef[bt.Reference]
		if t == nil {
			t = byPI[bt.PaymentIntent]
		}
		day := dateIn(bt.Created)
		if t == nil || seen[t.ID.String()] {
			r.Differences = append(r.Differences, Difference{"stripe", CauseStripeUnmatched, day, bt.ID, 0, bt.Amount})
			continue
		}
		seen[t.ID.String()] = true
		if bt.Amount != t.Amount {
			r.Differences = append(r.Differences, Difference{"stripe", CauseStripeAmount, day, t.ID.String(), t.Amount, bt.Amount})
		}
		if t.Fee != nil && bt.Fee != *t.Fee {
			r.Differences = append(r.Differences, Difference{"stripe", CauseStripeFee, day, t.ID.String(), deref64(t.Fee), bt.Fee})
		}
	}
	for _, t := range paid {
		if !seen[t.ID.String()] {
			r.Differences = append(r.Differences, Difference{"stripe", CauseStripeMissing, dateIn(*t.PaidAt), t.ID.String(), t.Amount, 0})
		}
	}
	return nil
}

func deref64(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}
