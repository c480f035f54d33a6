package ledger

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/reciproca/reciproca/internal/apperr"
)

// Check is the outcome of one invariant check.
type Check struct {
	Name        string        `json:"name"`
	Description string        `json:"description"`
	Violations  int64         `json:"violations"`
	Examples    []string      `json:"examples,omitempty"`
	Took        time.Duration `json:"took_ns"`
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
	fmt.Fprintf(w, "ledger: %d accounts, %d transactions, %d entries, %d in the audit log (%s)\n",
		r.Accounts, r.Transactions, r.Entries, r.Sealed, r.Took.Round(time.Millisecond))
	for _, c := range r.Checks {
		mark := "ok  "
		if c.Violations > 0 {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "  %s %-14s %-6s %s", mark, c.Name, c.Took.Round(time.Millisecond), c.Description)
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

// A check is a query returning one text row per violation, or a function
// returning the violations.
type check struct {
	name, description, query string
	run                      func(ctx context.Context, tx *sqlx.Tx, o VerifyOptions) ([]string, error)
}

// ledgerTables are every table of the ledger, as an SQL array.
const ledgerTables = `ARRAY['ledger_accounts', 'ledger_balances', 'ledger_split_policies', 'ledger_transactions',
	'ledger_entries', 'ledger_lots', 'ledger_lot_moves', 'ledger_log', 'ledger_log_hashes', 'ledger_log_head',
	'ledger_checkpoints']`

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
	// One pass over the entries, grouped by transaction, answers both
	// "balanced" and which entries or transactions have no counterpart.
	{name: "balanced", description: "every transaction's entries sum to zero per asset", query: `
		SELECT 'transaction ' || g.tx_id || ' off by ' || g.total || CASE WHEN g.assets > 1 THEN ' (mixes assets)' ELSE '' END
		FROM (SELECT e.tx_id, sum(e.amount) AS total, count(DISTINCT a.asset) AS assets
		      FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id GROUP BY e.tx_id) g
		WHERE g.total <> 0 OR g.assets > 1`},
	{name: "references", description: "entries, transactions and lots refer to what exists; only carry-overs have no entries", query: `
		SELECT CASE WHEN t.id IS NULL THEN 'entries of missing transaction ' || g.tx_id
		            WHEN g.tx_id IS NULL THEN 'transaction ' || t.id || ' has no entries'
		            ELSE 'transaction ' || t.id || ' has entries of missing accounts' END
		FROM (SELECT e.tx_id, bool_and(a.id IS NOT NULL) AS accounts_ok
		      FROM ledger_entries e LEFT JOIN ledger_accounts a ON a.id = e.account_id GROUP BY e.tx_id) g
		FULL JOIN ledger_transactions t ON t.id = g.tx_id
		WHERE t.id IS NULL OR (g.tx_id IS NULL AND t.kind <> 'lot_expiry.carry_over' AND t.kind NOT LIKE 'hold\_release.%')
		   OR NOT g.accounts_ok
		UNION ALL
		SELECT 'transaction ' || t.id || ' refers to a missing hold, original or split policy'
		FROM ledger_transactions t
		LEFT JOIN ledger_transactions h ON h.id = t.hold_id
		LEFT JOIN ledger_transactions o ON o.id = t.reverses_id
		LEFT JOIN ledger_split_policies p ON p.id = t.policy_id
		WHERE (t.hold_id IS NOT NULL AND h.id IS NULL) OR (t.reverses_id IS NOT NULL AND o.id IS NULL)
		   OR (t.policy_id IS NOT NULL AND p.id IS NULL)
		UNION ALL
		SELECT 'lot ' || l.id || ' of a missing account or parent' FROM ledger_lots l
		LEFT JOIN ledger_accounts a ON a.id = l.account_id LEFT JOIN ledger_lots p ON p.id = l.parent_id
		WHERE a.id IS NULL OR (l.parent_id IS NOT NULL AND p.id IS NULL)`},
	{name: "zero-sum", description: "posted and pending balances of all accounts sum to zero per asset", query: `
		SELECT a.asset || ' posted ' || sum(b.posted * s.sgn) || ', pending ' || sum((b.pending_in - b.pending_out) * s.sgn)
		FROM ledger_balances b JOIN ledger_accounts a ON a.id = b.account_id
		CROSS JOIN LATERAL (SELECT CASE WHEN a.normal_side = 'credit' THEN 1 ELSE -1 END AS sgn) s
		GROUP BY a.asset HAVING sum(b.posted * s.sgn) <> 0 OR sum((b.pending_in - b.pending_out) * s.sgn) <> 0`},
	{name: "materialised", description: "each balance equals the sum of its entries", query: sums + `
		SELECT a.path || ': posted ' || b.posted || ' vs ' || coalesce(ent.posted_u * s.sgn, 0)
		       || ', pending out ' || b.pending_out || ' vs ' || coalesce(ent.out_n, 0)
		       || ', pending in ' || b.pending_in || ' vs ' || coalesce(ent.in_n, 0)
		FROM ledger_accounts a JOIN b ON b.account_id = a.id LEFT JOIN ent ON ent.account_id = a.id
		CROSS JOIN LATERAL (SELECT CASE WHEN a.normal_side = 'credit' THEN 1 ELSE -1 END AS sgn) s
		WHERE b.posted <> coalesce(ent.posted_u * s.sgn, 0) OR b.pending_out <> coalesce(ent.out_n, 0)
		   OR b.pending_in <> coalesce(ent.in_n, 0)`},
	{name: "floors", description: "no account is below its floor, counting pending holds", query: `
		SELECT a.path || ': available ' || sum(b.posted - b.pending_out) || ' < floor ' || a.floor
		FROM ledger_accounts a JOIN ledger_balances b ON b.account_id = a.id
		WHERE a.floor IS NOT NULL GROUP BY a.id HAVING sum(b.posted - b.pending_out) < a.floor`},
	{name: "holds", description: "a hold resolves at most once; captured ≤ held; resolved holds are released", query: `
		SELECT 'hold ' || h.id || ' is captured without a capture' FROM ledger_transactions h
		WHERE h.status = 'captured' AND NOT EXISTS (SELECT 1 FROM ledger_transactions c WHERE c.hold_id = h.id)
		UNION ALL
		SELECT c.kind || ' ' || c.id || ' of hold ' || c.hold_id || ' which is ' || coalesce(h.status, 'missing')
		FROM ledger_transactions c LEFT JOIN ledger_transactions h ON h.id = c.hold_id
		WHERE c.hold_id IS NOT NULL
		  AND (h.expires_at IS NULL
		       -- a capture resolves a captured hold, a release (hold_release.voided, .expired) one of that status
		       OR (c.kind NOT LIKE 'hold\_release.%' AND h.status IS DISTINCT FROM 'captured')
		       OR (c.kind LIKE 'hold\_release.%' AND c.kind IS DISTINCT FROM 'hold_release.' || h.status))
		UNION ALL
		SELECT 'release ' || c.id || ' of hold ' || c.hold_id || ' has entries' FROM ledger_transactions c
		WHERE c.kind LIKE 'hold\_release.%' AND EXISTS (SELECT 1 FROM ledger_entries e WHERE e.tx_id = c.id)
		UNION ALL
		SELECT 'capture ' || c.id || ' takes ' || -ce.amount * s.sgn || ' from account ' || ce.account_id
		       || ' where hold ' || c.hold_id || ' reserved ' || coalesce(-he.amount * s.sgn, 0)
		FROM ledger_transactions c JOIN ledger_entries ce ON ce.tx_id = c.id
		JOIN (SELECT id, CASE WHEN normal_side = 'credit' THEN 1 ELSE -1 END AS sgn FROM ledger_accounts) s
		  ON s.id = ce.account_id
		LEFT JOIN ledger_entries he ON he.tx_id = c.hold_id AND he.account_id = ce.account_id
		WHERE c.hold_id IS NOT NULL AND ce.amount * s.sgn < 0
		  AND -ce.amount * s.sgn > greatest(coalesce(-he.amount * s.sgn, 0), 0)`},
	{name: "idempotency", description: "one key, one transaction, with its request hash", query: `
		SELECT 'transaction ' || id || ' has no request hash' FROM ledger_transactions
		WHERE length(request_hash) <> 32`},
	{name: "split", description: "split parts sum to the gross and match the recorded policy version", query: `
		SELECT 'transaction ' || t.id || ': ' || t.split::text FROM ledger_transactions t
		JOIN ledger_split_policies p ON p.id = t.policy_id
		CROSS JOIN LATERAL jsonb_to_record(t.split) AS r(gross bigint, provider bigint, fund bigint, fee bigint, version int)
		CROSS JOIN LATERAL ledger_split_parts(r.gross, p.fund_bps, p.fee_bps, p.remainder_to) x
		WHERE x.provider <> r.provider OR x.fund <> r.fund OR x.fee <> r.fee OR r.version <> p.version
		   OR x.provider + x.fund + x.fee <> r.gross`},
	{name: "lots", description: "lot remainders match their moves and sum to the available balance; nothing spent after expiry or outside its categories", query: `
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
		WHERE m.amount > 0 AND l.expires_at <= coalesce(t.written_at, t.created_at) AND t.kind NOT LIKE 'lot\_expiry.%'
		UNION ALL
		SELECT 'lot ' || l.id || ' paid for ' || m.category || ' (transaction ' || m.tx_id || '), outside its categories'
		FROM ledger_lot_moves m JOIN ledger_lots l ON l.id = m.lot_id
		WHERE m.amount > 0 AND m.category IS NOT NULL AND l.categories <> '{}' AND NOT m.category = ANY (l.categories)
		UNION ALL
		SELECT 'transaction ' || m.tx_id || ' recorded tax bucket ' || m.tax_bucket || ' without a category'
		FROM ledger_lot_moves m WHERE m.tax_bucket IS NOT NULL AND m.category IS NULL`},
	// A day lot (one per fund account, company, policy version, day and
	// shard) is created by one split and grown by others: each split's
	// fund part must be in lots of its own company, policy version and
	// effective day, and each day lot's grown must be its growth moves.
	{name: "attribution", description: "each split's fund part is in its company's contributor lots (policy version, day); day lots grew by their moves", query: `
		WITH credits AS (
			SELECT l.tx_id, l.amount AS amt, l.attrs FROM ledger_lots l WHERE l.attrs ? 'policy_version'
			UNION ALL
			SELECT m.tx_id, -m.amount, l.attrs FROM ledger_lot_moves m JOIN ledger_lots l ON l.id = m.lot_id
			WHERE m.amount < 0 AND m.against_tx IS NULL)
		SELECT 'transaction ' || t.id || ': fund part ' || (t.split->>'fund') || ' but '
		       || coalesce(sum(c.amt), 0) || ' in lots of company ' || coalesce(t.split->'fund_attrs'->>'company', '(none)')
		FROM ledger_transactions t
		LEFT JOIN credits c ON c.tx_id = t.id
		  AND c.attrs->>'company' IS NOT DISTINCT FROM t.split->'fund_attrs'->>'company'
		  AND c.attrs->>'policy_version' = t.split->>'version'
		  AND (NOT c.attrs ? 'day' OR c.attrs->>'day' = to_char(t.effective_at AT TIME ZONE 'Europe/Rome', 'YYYY-MM-DD'))
		WHERE t.split ? 'fund_attrs'
		GROUP BY t.id HAVING coalesce(sum(c.amt), 0) <> (t.split->>'fund')::bigint
		UNION ALL
		SELECT 'lot ' || l.id || ': grown ' || l.grown || ' but its growth moves add ' || coalesce(g.added, 0)
		FROM ledger_lots l
		LEFT JOIN (SELECT m.lot_id, -sum(m.amount) AS added FROM ledger_lot_moves m
		           WHERE m.amount < 0 AND m.against_tx IS NULL GROUP BY m.lot_id) g ON g.lot_id = l.id
		WHERE l.grown <> coalesce(g.added, 0) OR (l.group_key IS NULL AND g.added IS NOT NULL)`},
	{name: "immutability", description: "append-only triggers in place; the app role cannot update, delete or truncate the ledger", query: `
		SELECT 'trigger ' || n || ' missing or disabled'
		FROM unnest(ARRAY['ledger_transactions_immutable', 'ledger_entries_immutable', 'ledger_lot_moves_immutable',
		                  'ledger_log_immutable', 'ledger_log_hashes_immutable', 'ledger_checkpoints_immutable',
		                  'ledger_log_head_immutable', 'ledger_lots_immutable', 'ledger_lots_no_delete']
		            || ARRAY(SELECT t || '_no_truncate' FROM unnest(` + ledgerTables + `) t)) n
		WHERE NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = n AND tgenabled <> 'D')
		UNION ALL
		SELECT 'role reciproca_app may ' || p || ' ' || t
		FROM unnest(ARRAY['ledger_entries', 'ledger_transactions', 'ledger_lot_moves', 'ledger_log', 'ledger_log_hashes',
		                  'ledger_checkpoints', 'ledger_closed_periods', 'ledger_backdate_grants']) t,
		     unnest(ARRAY['UPDATE', 'DELETE', 'TRUNCATE']) p
		WHERE EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'reciproca_app')
		  AND has_table_privilege('reciproca_app', t, p)
		UNION ALL
		SELECT 'role reciproca_app may TRUNCATE ' || t FROM unnest(` + ledgerTables + `) t
		WHERE EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'reciproca_app')
		  AND has_table_privilege('reciproca_app', t, 'TRUNCATE')
		UNION ALL
		SELECT 'role reciproca_app may UPDATE ' || t || ' (floors, statuses and policies change only through audited functions)'
		FROM unnest(ARRAY['ledger_accounts', 'ledger_split_policies']) t
		WHERE EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'reciproca_app')
		  AND has_any_column_privilege('reciproca_app', t, 'UPDATE')`},
	{name: "sealing", description: "no transaction waits longer than the allowed lag to enter the audit log", run: checkSealing},
	{name: "log", description: "the audit log's records match the transactions, its root, and every checkpoint it extends",
		run: checkLog},
}

// maxExamples bounds the examples a check reports.
const maxExamples = 5

// verifyWorkers run checks side by side, sharing one snapshot.
const verifyWorkers = 2

// VerifyOptions tune Verify.
type VerifyOptions struct {
	// MaxSealLag is how long a transaction may wait to be sealed into the
	// audit log before verify reports the backlog (default DefaultMaxSealLag).
	MaxSealLag time.Duration
	// Roots are checkpoints published earlier (opened with Keys.Open): the
	// log must extend each of them.
	Roots []Checkpoint
}

// DefaultMaxSealLag is the sealing backlog verify accepts by default: the
// sealer runs every few seconds, so anything older means it is not running.
const DefaultMaxSealLag = 15 * time.Minute

// Verify is VerifyWith and the default options.
func Verify(ctx context.Context, dbx *sqlx.DB) (Report, error) {
	return VerifyWith(ctx, dbx, VerifyOptions{})
}

// VerifyWith checks every invariant of the ledger (ledger.md) and the audit
// log, in one repeatable-read snapshot (shared by verifyWorkers
// connections, pg_export_snapshot) so that concurrent writes cannot produce
// false alarms. Report.OK is false on any violation; err is only for
// failing to run the checks.
func VerifyWith(ctx context.Context, dbx *sqlx.DB, o VerifyOptions) (Report, error) {
	if o.MaxSealLag <= 0 {
		o.MaxSealLag = DefaultMaxSealLag
	}
	start := time.Now()
	var rep Report
	txs := make([]*sqlx.Tx, verifyWorkers)
	var snapshot string
	for i := range txs {
		tx, err := dbx.BeginTxx(ctx, nil)
		if err != nil {
			return rep, apperr.Wrap(err, "verify: begin")
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, `SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY`); err != nil {
			return rep, apperr.Wrap(err, "verify: snapshot")
		}
		if i == 0 {
			err = tx.GetContext(ctx, &snapshot, `SELECT pg_export_snapshot()`)
		} else {
			_, err = tx.ExecContext(ctx, `SET TRANSACTION SNAPSHOT `+pq.QuoteLiteral(snapshot))
		}
		if err != nil {
			return rep, apperr.Wrap(err, "verify: sharing the snapshot")
		}
		txs[i] = tx
	}
	err := txs[0].QueryRowxContext(ctx, `SELECT (SELECT count(*) FROM ledger_accounts), (SELECT count(*) FROM ledger_transactions),
		(SELECT count(*) FROM ledger_entries), (SELECT size FROM ledger_log_head)`).
		Scan(&rep.Accounts, &rep.Transactions, &rep.Entries, &rep.Sealed)
	if err != nil {
		return rep, apperr.Wrap(err, "verify: counting")
	}
	rep.Checks = make([]Check, len(checks))
	next := make(chan int, len(checks))
	for i := range checks { // the longest, the log, first
		next <- (i + len(checks) - 1) % len(checks)
	}
	close(next)
	errs := make(chan error, verifyWorkers)
	for _, tx := range txs {
		go func(tx *sqlx.Tx) {
			for i := range next {
				res, err := runCheck(ctx, tx, checks[i], o)
				if err != nil {
					errs <- err
					return
				}
				rep.Checks[i] = res
			}
			errs <- nil
		}(tx)
	}
	for range txs {
		if e := <-errs; e != nil && err == nil {
			err = e
		}
	}
	if err != nil {
		return rep, err
	}
	rep.OK = true
	for _, c := range rep.Checks {
		if c.Violations > 0 {
			rep.OK = false
		}
	}
	rep.Took = time.Since(start)
	return rep, nil
}

func runCheck(ctx context.Context, tx *sqlx.Tx, c check, o VerifyOptions) (Check, error) {
	res := Check{Name: c.name, Description: c.description}
	began := time.Now()
	if c.run != nil {
		found, err := c.run(ctx, tx, o)
		if err != nil {
			return res, apperr.Wrap(err, "verify: check %s", c.name)
		}
		res.Violations = int64(len(found))
		res.Examples = found[:min(len(found), maxExamples)]
		res.Took = time.Since(began)
		return res, nil
	}
	rows, err := tx.QueryContext(ctx, c.query)
	if err != nil {
		return res, apperr.Wrap(err, "verify: check %s", c.name)
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return res, apperr.Wrap(err, "verify: check %s", c.name)
		}
		res.Violations++
		if len(res.Examples) < maxExamples {
			res.Examples = append(res.Examples, s)
		}
	}
	if err := rows.Err(); err != nil {
		return res, apperr.Wrap(err, "verify: check %s", c.name)
	}
	res.Took = time.Since(began)
	return res, nil
}
