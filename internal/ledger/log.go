package ledger

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/reciproca/reciproca/internal/apperr"
)

// The audit log is a Merkle tree (RFC 6962, as golang.org/x/mod/sumdb/tlog
// builds it: the Go checksum database's log) over one leaf per ledger
// transaction, the canonical text ledger_leaves gives (sql/leaves.sql).
// Sealing appends leaves asynchronously, off the write path; a signed
// checkpoint (size and root) published outside the database lets anyone
// prove later that the log only grew (consistency proof), and one company
// that its transaction is in it (inclusion proof).

// Seal appends up to limit transactions to the audit log and returns how
// many it appended. It takes transactions in (writer xid, id) order and
// only those whose writer, and every older writer, has finished, so no
// transaction can later appear behind the log's end. Sealers take turns on
// the head row; writers never wait for them.
func Seal(ctx context.Context, dbx *sqlx.DB, limit int) (int, error) {
	tx, err := dbx.BeginTxx(ctx, nil)
	if err != nil {
		return 0, apperr.Wrap(err, "sealing the ledger log")
	}
	defer tx.Rollback()
	n, err := seal(ctx, tx, limit)
	if err == nil && n > 0 {
		err = tx.Commit()
	}
	return n, apperr.Wrap(err, "sealing the ledger log")
}

func seal(ctx context.Context, tx *sqlx.Tx, limit int) (int, error) {
	var head struct {
		Size    int64  `db:"size"`
		LastXID string `db:"last_xid"`
		LastTx  int64  `db:"last_tx"`
	}
	if err := tx.GetContext(ctx, &head, `SELECT size, last_xid::text AS last_xid, last_tx FROM ledger_log_head FOR UPDATE`); err != nil {
		return 0, err
	}
	var leaves []struct {
		ID   int64  `db:"id"`
		XID  string `db:"writer_xid"`
		Leaf string `db:"leaf"`
	}
	err := tx.SelectContext(ctx, &leaves, `
		WITH b AS (SELECT t.id, t.writer_xid FROM ledger_transactions t
		           WHERE (t.writer_xid, t.id) > ($1::xid8, $2) AND t.writer_xid < pg_snapshot_xmin(pg_current_snapshot())
		           ORDER BY t.writer_xid, t.id LIMIT $3)
		SELECT b.id, b.writer_xid::text AS writer_xid, x.leaf
		FROM b JOIN ledger_leaves(ARRAY(SELECT id FROM b)) x ON x.tx_id = b.id
		ORDER BY b.writer_xid, b.id`, head.LastXID, head.LastTx, limit)
	if err != nil || len(leaves) == 0 {
		return 0, err
	}
	r := newHashCache(ctx, tx)
	var seqs, txIDs, idxs []int64
	var leafHashes, hashes [][]byte
	for i, l := range leaves {
		n := head.Size + int64(i)
		stored, err := tlog.StoredHashes(n, []byte(l.Leaf), r)
		if err != nil {
			return 0, err
		}
		base := tlog.StoredHashIndex(0, n)
		for j, h := range stored {
			r.known[base+int64(j)] = h
			idxs, hashes = append(idxs, base+int64(j)), append(hashes, h[:])
		}
		seqs, txIDs, leafHashes = append(seqs, n), append(txIDs, l.ID), append(leafHashes, stored[0][:])
	}
	size := head.Size + int64(len(leaves))
	root, err := tlog.TreeHash(size, r)
	if err != nil {
		return 0, err
	}
	last := leaves[len(leaves)-1]
	_, err = tx.ExecContext(ctx, `
		WITH l AS (INSERT INTO ledger_log (seq, tx_id, hash) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bytea[])),
		h AS (INSERT INTO ledger_log_hashes (idx, hash) SELECT * FROM unnest($4::bigint[], $5::bytea[]))
		UPDATE ledger_log_head SET size = $6, root = $7, last_xid = $8::xid8, last_tx = $9, sealed_at = now()`,
		pq.Int64Array(seqs), pq.Int64Array(txIDs), pq.ByteaArray(leafHashes), pq.Int64Array(idxs), pq.ByteaArray(hashes),
		size, root[:], last.XID, last.ID)
	return len(leaves), err
}

// SealAll seals until nothing sealable is left.
func SealAll(ctx context.Context, dbx *sqlx.DB) (int, error) {
	total := 0
	for {
		n, err := Seal(ctx, dbx, 5000)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

// hashCache reads the log's stored hashes from the database, remembering
// what it read and what the caller computed since.
type hashCache struct {
	ctx   context.Context
	q     sqlx.QueryerContext
	known map[int64]tlog.Hash
}

func newHashCache(ctx context.Context, q sqlx.QueryerContext) *hashCache {
	return &hashCache{ctx: ctx, q: q, known: map[int64]tlog.Hash{}}
}

// ReadHashes implements tlog.HashReader.
func (c *hashCache) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	var missing []int64
	for _, i := range indexes {
		if _, ok := c.known[i]; !ok {
			missing = append(missing, i)
		}
	}
	if len(missing) > 0 {
		rows, err := c.q.QueryxContext(c.ctx, `SELECT idx, hash FROM ledger_log_hashes WHERE idx = ANY ($1)`,
			pq.Int64Array(missing))
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var i int64
			var b []byte
			if err := rows.Scan(&i, &b); err != nil {
				return nil, err
			}
			var h tlog.Hash
			copy(h[:], b)
			c.known[i] = h
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	out := make([]tlog.Hash, len(indexes))
	for k, i := range indexes {
		h, ok := c.known[i]
		if !ok {
			return nil, fmt.Errorf("the ledger log has no stored hash %d", i)
		}
		out[k] = h
	}
	return out, nil
}

// Head is the audit log's current extent: Size leaves with root Root.
type Head struct {
	Size int64
	Root tlog.Hash
}

func readHead(ctx context.Context, q sqlx.QueryerContext) (Head, error) {
	var size int64
	var root []byte
	err := q.QueryRowxContext(ctx, `SELECT size, root FROM ledger_log_head`).Scan(&size, &root)
	if err == sql.ErrNoRows {
		return Head{}, fmt.Errorf("the ledger log has no head row")
	}
	h := Head{Size: size}
	copy(h.Root[:], root)
	return h, err
}
