package ledger

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jmoiron/sqlx"
	"golang.org/x/mod/sumdb/tlog"
)

// logPage is how many records checkLog reads at a time.
const logPage = 10000

// checkLog recomputes the audit log from the ledger's rows: each record's
// leaf against its sealed hash, the tree's root against the head, the
// stored tree hashes against that root, no transaction left out behind the
// log's end, and the consistency of the log with every checkpoint published
// earlier (those recorded in ledger_checkpoints and those given in o.Roots).
func checkLog(ctx context.Context, tx *sqlx.Tx, o VerifyOptions) ([]string, error) {
	head, err := readHead(ctx, tx)
	if err != nil {
		return nil, err
	}
	var bad []string
	var tree frontier
	next := int64(0)
	for {
		rows, err := tx.QueryxContext(ctx, `
			SELECT l.seq, l.tx_id, l.hash, x.leaf FROM ledger_log l
			LEFT JOIN ledger_leaves(ARRAY(SELECT tx_id FROM ledger_log WHERE seq >= $1 ORDER BY seq LIMIT $2)) x
			  ON x.tx_id = l.tx_id
			WHERE l.seq >= $1 ORDER BY l.seq LIMIT $2`, next, logPage)
		if err != nil {
			return nil, err
		}
		n := 0
		for rows.Next() {
			var seq, txID int64
			var sealed []byte
			var leaf sql.NullString
			if err := rows.Scan(&seq, &txID, &sealed, &leaf); err != nil {
				rows.Close()
				return nil, err
			}
			n++
			if seq != next {
				rows.Close()
				return append(bad, fmt.Sprintf("the log jumps from record %d to %d", next-1, seq)), nil
			}
			h := tlog.RecordHash([]byte(leaf.String))
			switch {
			case !leaf.Valid:
				bad = append(bad, fmt.Sprintf("record %d: transaction %d is gone", seq, txID))
			case string(h[:]) != string(sealed):
				bad = append(bad, fmt.Sprintf("record %d: transaction %d differs from what was sealed", seq, txID))
			}
			tree.push(h)
			next++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		if n < logPage {
			break
		}
	}
	if next != head.Size {
		bad = append(bad, fmt.Sprintf("the log's head counts %d records, the log holds %d", head.Size, next))
	}
	root := tree.root()
	if root != head.Root {
		bad = append(bad, fmt.Sprintf("the log's root %s is not the root %s of its records", head.Root, root))
	}
	if stored, err := tlog.TreeHash(head.Size, newHashCache(ctx, tx)); err != nil || stored != head.Root {
		bad = append(bad, fmt.Sprintf("the log's stored tree hashes do not lead to its root (%v)", err))
	}
	var skipped []int64
	err = tx.SelectContext(ctx, &skipped, `SELECT t.id FROM ledger_transactions t, ledger_log_head h
		WHERE (t.writer_xid, t.id) <= (h.last_xid, h.last_tx)
		  AND NOT EXISTS (SELECT 1 FROM ledger_log l WHERE l.tx_id = t.id) ORDER BY t.id`)
	if err != nil {
		return nil, err
	}
	for _, id := range skipped {
		bad = append(bad, fmt.Sprintf("transaction %d is behind the log's end but not in it", id))
	}
	recorded, err := recordedCheckpoints(ctx, tx)
	if err != nil {
		return nil, err
	}
	for _, cp := range append(recorded, o.Roots...) {
		if why := checkExtends(ctx, tx, next, root, cp); why != "" {
			bad = append(bad, why)
		}
	}
	return bad, nil
}

func recordedCheckpoints(ctx context.Context, q sqlx.QueryerContext) ([]Checkpoint, error) {
	rows, err := q.QueryxContext(ctx, `SELECT size, root FROM ledger_checkpoints ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Checkpoint
	for rows.Next() {
		var c Checkpoint
		var root []byte
		if err := rows.Scan(&c.Size, &root); err != nil {
			return nil, err
		}
		copy(c.Root[:], root)
		out = append(out, c)
	}
	return out, rows.Err()
}

// checkSealing reports transactions older than o.MaxSealLag that are not
// sealed yet: the sealer has stopped, or it cannot get past something.
func checkSealing(ctx context.Context, tx *sqlx.Tx, o VerifyOptions) ([]string, error) {
	var late []string
	err := tx.SelectContext(ctx, &late, `
		SELECT 'transaction ' || t.id || ' of ' || to_char(t.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')
		       || ' UTC is not sealed after ' || $2
		FROM ledger_transactions t, ledger_log_head h
		WHERE (t.writer_xid, t.id) > (h.last_xid, h.last_tx) AND t.created_at < now() - make_interval(secs => $1)
		ORDER BY t.id`, o.MaxSealLag.Seconds(), o.MaxSealLag.String())
	return late, err
}

// frontier computes a Merkle tree's root (RFC 6962, as tlog hashes it)
// from its record hashes one at a time, keeping only the complete subtrees
// along the right edge: log₂ n hashes, not the whole tree.
type frontier struct {
	sizes  []int64
	hashes []tlog.Hash
}

func (f *frontier) push(h tlog.Hash) {
	f.sizes, f.hashes = append(f.sizes, 1), append(f.hashes, h)
	for k := len(f.sizes); k >= 2 && f.sizes[k-1] == f.sizes[k-2]; k = len(f.sizes) {
		f.hashes[k-2] = tlog.NodeHash(f.hashes[k-2], f.hashes[k-1])
		f.sizes[k-2] *= 2
		f.sizes, f.hashes = f.sizes[:k-1], f.hashes[:k-1]
	}
}

func (f *frontier) root() tlog.Hash {
	if len(f.hashes) == 0 {
		empty, _ := tlog.TreeHash(0, nil)
		return empty
	}
	h := f.hashes[len(f.hashes)-1]
	for i := len(f.hashes) - 2; i >= 0; i-- {
		h = tlog.NodeHash(f.hashes[i], h)
	}
	return h
}
