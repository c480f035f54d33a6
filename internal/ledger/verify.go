package ledger

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
)

// Check is the outcome of one invariant check.
type Check struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Violations  int64    `json:"violations"`
	Examples    []string `json:"examples,omitempty"`
}

// Report is what Verify found.
type Report struct {
	OK           bool          `json:"ok"`
	Accounts     int64         `json:"accounts"`
	Transactions int64         `json:"transactions"`
	Entries      int64         `json:"entries"`
	Sealed       int64         `json:"sealed"`
	Checks       []Check       `json:"checks"`
	Took         time.Duration `json:"took_ns"`
}

// Write prints the report for a person.
func (r Report) Write(w io.Writer) {
	fmt.Fprintf(w, "ledger: %d accounts, %d transactions, %d entries, %d sealed in the hash chain (%s)\n",
		r.Accounts, r.Transactions, r.Entries, r.Sealed, r.Took.Round(time.Millisecond))
	for _, c := range r.Checks {
		mark := "ok  "
		if c.Violations > 0 {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "  %s %-14s %s", mark, c.Name, c.Description)
		if c.Violations > 0 {
			fmt.Fprintf(w, ": %d violation(s), e.g. %v", c.Violations, c.Examples)
		}
		fmt.Fprintln(w)
	}
	if r.OK {
		fmt.Fprintln(w, "ledger: every invariant holds")
	} else {
		fmt.Fprintln(w, "ledger: INVARIANTS VIOLATED")
	}
}

// A check is a query returning one text row per violation.
type check struct {
	name, description, query string
}

// balances: materialised per account; ent: what the entries say.
const sums = `
WITH b AS (SELECT account_id, sum(posted) AS posted, sum(pending_out) AS pending_out, sum(pending_in) AS pending_in
           FROM ledger_balances GROUP BY account_id),
ent AS (SELECT e.account_id,
          sum(e.amount) FILTER (WHERE t.status = 'posted') AS posted_u,
          sum(greatest(-e.amount * s.sgn, 0)) FILTER (WHERE t.status = 'pending') AS out_n,
          sum(greatest(e.amount * s.sgn, 0)) FILTER (WHERE t.status = 'pending') AS in_n
        FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.tx_id
        JOIN (SELECT id, CASE WHEN normal_side = 'credit' THEN 1 ELSE -1 END AS sgn FROM ledger_accounts) s
          ON s.id = e.account_id
        GROUP BY e.account_id)`

var checks = []check{
	{"balanced", "every transaction's entries sum to zero per asset", `
		SELECT 'transaction ' || e.tx_id || ' ' || a.asset || ' off by ' || sum(e.amount)
		FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id
		GROUP BY e.tx_id, a.asset HAVING sum(e.amount) <> 0`},
	{"references", "entries, transactions and lots refer to what exists; only carry-overs have no entries", `
		SELECT 'entry ' || e.id FROM ledger_entries e
		WHERE NOT EXISTS (SELECT 1 FROM ledger_transactions t WHERE t.id = e.tx_id)
		   OR NOT EXISTS (SELECT 1 FROM ledger_accounts a WHERE a.id = e.account_id)
		UNION ALL
		SELECT 'transaction ' || t.id || ' refers to a missing ' || CASE
		         WHEN t.hold_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ledger_transactions h WHERE h.id = t.hold_id) THEN 'hold'
		         WHEN t.reverses_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ledger_transactions o WHERE o.id = t.reverses_id) THEN 'original'
		         ELSE 'split policy' END
		FROM ledger_transactions t
		WHERE (t.hold_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ledger_transactions h WHERE h.id = t.hold_id))
		   OR (t.reverses_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ledger_transactions o WHERE o.id = t.reverses_id))
		   OR (t.policy_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ledger_split_policies p WHERE p.id = t.policy_id))
		UNION ALL
		SELECT 'lot ' || l.id || ' of a missing account or parent' FROM ledger_lots l
		WHERE NOT EXISTS (SELECT 1 FROM ledger_accounts a WHERE a.id = l.account_id)
		   OR (l.parent_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ledger_lots p WHERE p.id = l.parent_id))
		UNION ALL
		SELECT 'transaction ' || t.id || ' has no entries' FROM ledger_transactions t
		WHERE t.kind <> 'lot_expiry.carry_over' AND NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.tx_id = t.id)`},
	{"zero-sum", "posted and pending balances of all accounts sum to zero per asset", `
		SELECT a.asset || ' posted ' || sum(b.posted * s.sgn) || ', pending ' || sum((b.pending_in - b.pending_out) * s.sgn)
		FROM ledger_balances b JOIN ledger_accounts a ON a.id = b.account_id
		CROSS JOIN LATERAL (SELECT CASE WHEN a.normal_side = 'credit' THEN 1 ELSE -1 END AS sgn) s
		GROUP BY a.asset HAVING sum(b.posted * s.sgn) <> 0 OR sum((b.pending_in - b.pending_out) * s.sgn) <> 0`},
	{"materialised", "each balance equals the sum of its entries", sums + `
		SELECT a.path || ': posted ' || b.posted || ' vs ' || coalesce(ent.posted_u * s.sgn, 0)
		       || ', pending out ' || b.pending_out || ' vs ' || coalesce(ent.out_n, 0)
		       || ', pending in ' || b.pending_in || ' vs ' || coalesce(ent.in_n, 0)
		FROM ledger_accounts a JOIN b ON b.account_id = a.id LEFT JOIN ent ON ent.account_id = a.id
		CROSS JOIN LATERAL (SELECT CASE WHEN a.normal_side = 'credit' THEN 1 ELSE -1 END AS sgn) s
		WHERE b.posted <> coalesce(ent.posted_u * s.sgn, 0) OR b.pending_out <> coalesce(ent.out_n, 0)
		   OR b.pending_in <> coalesce(ent.in_n, 0)`},
	{"floors", "no account is below its floor, counting pending holds", `
		SELECT a.path || ': available ' || sum(b.posted - b.pending_out) || ' < floor ' || a.floor
		FROM ledger_accounts a JOIN ledger_balances b ON b.account_id = a.id
		WHERE a.floor IS NOT NULL GROUP BY a.id HAVING sum(b.posted - b.pending_out) < a.floor`},
	{"holds", "a hold resolves at most once; captured ≤ held; resolved holds are released", `
		SELECT 'hold ' || h.id || ' is captured without a capture' FROM ledger_transactions h
		WHERE h.status = 'captured' AND NOT EXISTS (SELECT 1 FROM ledger_transactions c WHERE c.hold_id = h.id)
		UNION ALL
		SELECT 'capture ' || c.id || ' of hold ' || c.hold_id || ' which is ' || coalesce(h.status, 'missing')
		FROM ledger_transactions c LEFT JOIN ledger_transactions h ON h.id = c.hold_id
		WHERE c.hold_id IS NOT NULL AND (h.status IS DISTINCT FROM 'captured' OR h.expires_at IS NULL)
		UNION ALL
		SELECT 'capture ' || c.id || ' takes ' || -ce.amount * s.sgn || ' from account ' || ce.account_id
		       || ' where hold ' || c.hold_id || ' reserved ' || coalesce(-he.amount * s.sgn, 0)
		FROM ledger_transactions c JOIN ledger_entries ce ON ce.tx_id = c.id
		JOIN (SELECT id, CASE WHEN normal_side = 'credit' THEN 1 ELSE -1 END AS sgn FROM ledger_accounts) s
		  ON s.id = ce.account_id
		LEFT JOIN ledger_entries he ON he.tx_id = c.hold_id AND he.account_id = ce.account_id
		WHERE c.hold_id IS NOT NULL AND ce.amount * s.sgn < 0
		  AND -ce.amount * s.sgn > greatest(coalesce(-he.amount * s.sgn, 0), 0)`},
	{"idempotency", "one key, one transaction, with its request hash", `
		SELECT 'transaction ' || id || ' has no request hash' FROM ledger_transactions
		WHERE length(request_hash) <> 32`},
	{"split", "split parts sum to the gross and match the recorded policy version", `
		SELECT 'transaction ' || t.id || ': ' || t.split::text FROM ledger_transactions t
		JOIN ledger_split_policies p ON p.id = t.policy_id
		CROSS JOIN LATERAL ledger_split_parts((t.split->>'gross')::bigint, p.fund_bps, p.fee_bps, p.remainder_to) x
		WHERE x.provider <> (t.split->>'provider')::bigint OR x.fund <> (t.split->>'fund')::bigint
		   OR x.fee <> (t.split->>'fee')::bigint OR (t.split->>'version')::int <> p.version
		   OR x.provider + x.fund + x.fee <> (t.split->>'gross')::bigint`},
	{"lots", "lot remainders match their moves and sum to the available balance; nothing spent after expiry", `
		SELECT 'lot ' || l.id || ': remaining ' || l.remaining || ' but moves leave ' || (l.amount - coalesce(m.used, 0))
		FROM ledger_lots l
		LEFT JOIN (SELECT lot_id, sum(amount) AS used FROM ledger_lot_moves GROUP BY lot_id) m ON m.lot_id = l.id
		WHERE l.remaining <> l.amount - coalesce(m.used, 0)
		UNION ALL
		SELECT a.path || ': lots ' || coalesce(lt.rem, 0) || ' vs available ' || bb.avail
		FROM ledger_accounts a
		JOIN (SELECT account_id, sum(posted - pending_out) AS avail FROM ledger_balances GROUP BY account_id) bb
		  ON bb.account_id = a.id
		LEFT JOIN (SELECT account_id, sum(remaining) AS rem FROM ledger_lots GROUP BY account_id) lt
		  ON lt.account_id = a.id
		WHERE a.lots AND coalesce(lt.rem, 0) <> bb.avail
		UNION ALL
		SELECT 'lot ' || l.id || ' spent by transaction ' || t.id || ' after its expiry'
		FROM ledger_lot_moves m JOIN ledger_lots l ON l.id = m.lot_id JOIN ledger_transactions t ON t.id = m.tx_id
		WHERE m.amount > 0 AND l.expires_at <= t.created_at AND t.kind NOT LIKE 'lot\_expiry.%'`},
	{"immutability", "append-only triggers in place; the app role cannot update or delete entries", `
		SELECT 'trigger ' || n || ' missing or disabled'
		FROM unnest(ARRAY['ledger_transactions_immutable', 'ledger_entries_immutable', 'ledger_lot_moves_immutable',
		                  'ledger_chain_immutable', 'ledger_transactions_no_truncate', 'ledger_entries_no_truncate']) n
		WHERE NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = n AND tgenabled <> 'D')
		UNION ALL
		SELECT 'role reciproca_app may ' || p || ' ' || t
		FROM unnest(ARRAY['ledger_entries', 'ledger_transactions', 'ledger_lot_moves', 'ledger_chain']) t,
		     unnest(ARRAY['UPDATE', 'DELETE', 'TRUNCATE']) p
		WHERE EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'reciproca_app')
		  AND has_table_privilege('reciproca_app', t, p)`},
	{"chain", "the hash chain over sealed transactions is intact", `
		SELECT 'chain broken at sequence ' || x FROM ledger_chain_check() x WHERE x IS NOT NULL`},
}

// maxExamples bounds the examples a check reports.
const maxExamples = 5

// Verify checks every invariant of the ledger (ledger.md) and the hash
// chain, in one repeatable-read snapshot so concurrent writes cannot
// produce false alarms. Report.OK is false on any violation; err is only
// for failing to run the checks.
func Verify(ctx context.Context, dbx *sqlx.DB) (Report, error) {
	start := time.Now()
	var rep Report
	tx, err := dbx.BeginTxx(ctx, nil)
	if err != nil {
		return rep, apperr.Wrap(err, "verify: begin")
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY`); err != nil {
		return rep, apperr.Wrap(err, "verify: snapshot")
	}
	err = tx.QueryRowxContext(ctx, `SELECT (SELECT count(*) FROM ledger_accounts), (SELECT count(*) FROM ledger_transactions),
		(SELECT count(*) FROM ledger_entries), (SELECT seq FROM ledger_chain_head)`).
		Scan(&rep.Accounts, &rep.Transactions, &rep.Entries, &rep.Sealed)
	if err != nil {
		return rep, apperr.Wrap(err, "verify: counting")
	}
	rep.OK = true
	for _, c := range checks {
		res := Check{Name: c.name, Description: c.description}
		rows, err := tx.QueryContext(ctx, c.query)
		if err != nil {
			return rep, apperr.Wrap(err, "verify: check %s", c.name)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				rows.Close()
				return rep, apperr.Wrap(err, "verify: check %s", c.name)
			}
			res.Violations++
			if len(res.Examples) < maxExamples {
				res.Examples = append(res.Examples, s)
			}
		}
		if err := rows.Err(); err != nil {
			return rep, apperr.Wrap(err, "verify: check %s", c.name)
		}
		rows.Close()
		if res.Violations > 0 {
			rep.OK = false
		}
		rep.Checks = append(rep.Checks, res)
	}
	rep.Took = time.Since(start)
	return rep, nil
}
