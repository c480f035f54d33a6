package funding

import (
	"context"
	"sort"
	"time"
)

// DayTakeBacks is one day's money Stripe took back from paid top-ups and
// gave back, as the ledger has it (platform:stripe): refunds, disputes
// withdrawn and disputes reinstated, each a positive amount.
type DayTakeBacks struct {
	Day                             time.Time
	Refunds, Disputes, Reinstated   int64
	RefundCount, DisputeCount, Back int
}

// The causes of take-back differences.
const (
	CauseRefundAmount  = "refund_amount"  // the refunds booked are not what the top-up says Stripe refunded
	CauseDisputeAmount = "dispute_amount" // the dispute booked is not what the top-up's dispute state says
)

// reconcileTakeBacks fills r.TakeBacks with the period's refunds and
// disputes day by day, and lists each top-up of them whose recorded
// totals (funding_topups.refunded, dispute_state and dispute_amount)
// disagree with what the ledger booked for it, all time.
func (s *Service) reconcileTakeBacks(ctx context.Context, r *Reconciliation, start, end time.Time) error {
	lines, err := s.accountingLines(ctx, start, end)
	if err != nil {
		return err
	}
	days := map[time.Time]*DayTakeBacks{}
	touched := map[string]time.Time{}
	for _, l := range lines {
		if l.Kind != "refund" && l.Kind != "dispute" && l.Kind != "dispute_reinstated" {
			continue
		}
		d := days[l.Day]
		if d == nil {
			d = &DayTakeBacks{Day: l.Day}
			days[l.Day] = d
		}
		switch l.Kind {
		case "refund":
			d.Refunds -= l.Cents
			d.RefundCount++
		case "dispute":
			d.Disputes -= l.Cents
			d.DisputeCount++
		default:
			d.Reinstated += l.Cents
			d.Back++
		}
		touched[l.TopUp] = l.Day
	}
	for _, d := range days {
		r.TakeBacks = append(r.TakeBacks, *d)
	}
	sort.Slice(r.TakeBacks, func(i, j int) bool { return r.TakeBacks[i].Day.Before(r.TakeBacks[j].Day) })
	ids := make([]string, 0, len(touched))
	for id := range touched {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		var t struct {
			Refunded     int64  `db:"refunded"`
			DisputeState string `db:"dispute_state"`
			DisputeAmt   int64  `db:"dispute_amount"`
			LedgerRefund int64  `db:"ledger_refund"`
			LedgerDisp   int64  `db:"ledger_dispute"`
		}
		if err := s.db.GetContext(ctx, &t, `SELECT t.refunded, t.dispute_state, t.dispute_amount,
				coalesce((SELECT sum(e.amount) FROM ledger_transactions x JOIN ledger_entries e ON e.tx_id = x.id
				          JOIN ledger_accounts a ON a.id = e.account_id
				          WHERE x.reference = t.id::text AND x.kind = 'topup.refund' AND a.path = 'platform:stripe'), 0)::bigint AS ledger_refund,
				coalesce((SELECT sum(e.amount) FROM ledger_transactions x JOIN ledger_entries e ON e.tx_id = x.id
				          JOIN ledger_accounts a ON a.id = e.account_id
				          WHERE x.reference = t.id::text AND x.kind = 'topup.dispute' AND a.path = 'platform:stripe'), 0)::bigint AS ledger_dispute
			FROM funding_topups t WHERE t.id::text = $1`, id); err != nil {
			return err
		}
		if t.LedgerRefund != t.Refunded {
			r.Differences = append(r.Differences, Difference{"ledger", CauseRefundAmount, touched[id], id, t.Refunded, t.LedgerRefund})
		}
		want := int64(0) // none, or reinstated: nothing stays taken
		if t.DisputeState == "withdrawn" {
			want = t.DisputeAmt
		}
		if t.LedgerDisp != want {
			r.Differences = append(r.Differences, Difference{"ledger", CauseDisputeAmount, touched[id], id, want, t.LedgerDisp})
		}
	}
	return nil
}
