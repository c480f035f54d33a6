package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/reciproca/reciproca/internal/apperr"
)

// InclusionProof shows that a transaction is in the audit log: its leaf is
// record Index of the tree that Checkpoint signs. Anyone holding the
// ledger's verifier key checks it with tlog.CheckRecord (CheckInclusion):
// RecordHash(Leaf) and Proof must lead to the checkpoint's root.
type InclusionProof struct {
	TransactionID int64            `json:"transaction_id"`
	Index         int64            `json:"index"`
	Leaf          string           `json:"leaf"`
	Proof         tlog.RecordProof `json:"proof"`
	Checkpoint    string           `json:"checkpoint"`
}

// Prove returns the inclusion proof of transaction txID in the audit log
// as it is now, with a freshly signed checkpoint, and checks it before
// returning it: a proof that does not check means the ledger was damaged.
//
// Errors: not_found (no such transaction, or not sealed yet).
func Prove(ctx context.Context, dbx *sqlx.DB, keys *Keys, txID int64) (InclusionProof, error) {
	p := InclusionProof{TransactionID: txID}
	tx, err := dbx.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return p, apperr.Wrap(err, "proving transaction %d", txID)
	}
	defer tx.Rollback()
	var leaf sql.NullString
	err = tx.QueryRowxContext(ctx, `SELECT l.seq, x.leaf FROM ledger_log l
		LEFT JOIN ledger_leaves(ARRAY[l.tx_id]) x ON true WHERE l.tx_id = $1`, txID).Scan(&p.Index, &leaf)
	if errors.Is(err, sql.ErrNoRows) {
		return p, apperr.New(apperr.NotFound, "transaction %d is not in the audit log (unknown, or not sealed yet)", txID).
			With("transaction_id", txID)
	}
	if err != nil {
		return p, apperr.Wrap(err, "proving transaction %d", txID)
	}
	p.Leaf = leaf.String
	head, err := readHead(ctx, tx)
	if err != nil {
		return p, apperr.Wrap(err, "proving transaction %d", txID)
	}
	p.Proof, err = tlog.ProveRecord(head.Size, p.Index, newHashCache(ctx, tx))
	if err != nil {
		return p, apperr.Wrap(err, "proving transaction %d", txID)
	}
	cp, err := keys.Sign(head)
	if err != nil {
		return p, err
	}
	p.Checkpoint = cp.Note
	if err := CheckInclusion(p, keys); err != nil {
		return p, fmt.Errorf("the audit log is damaged: %w", err)
	}
	return p, nil
}

// CheckInclusion verifies p: the checkpoint's signature, and that the leaf
// is record p.Index of the tree it signs.
func CheckInclusion(p InclusionProof, keys *Keys) error {
	cp, err := keys.Open(p.Checkpoint)
	if err != nil {
		return err
	}
	if p.Index < 0 || p.Index >= cp.Size {
		return fmt.Errorf("record %d is outside the checkpoint's %d records", p.Index, cp.Size)
	}
	if err := tlog.CheckRecord(p.Proof, cp.Size, cp.Root, p.Index, tlog.RecordHash([]byte(p.Leaf))); err != nil {
		return fmt.Errorf("transaction %d is not record %d of the signed log: %w", p.TransactionID, p.Index, err)
	}
	return nil
}

// checkExtends reports why the log of size and root (computed from the
// ledger's rows) does not extend the earlier checkpoint old, or "" when it
// does; the consistency proof comes from the stored hashes (q).
func checkExtends(ctx context.Context, q sqlx.QueryerContext, size int64, root tlog.Hash, old Checkpoint) string {
	switch {
	case old.Size > size:
		return fmt.Sprintf("the log has %d records, fewer than the %d of checkpoint %s", size, old.Size, old.Root)
	case old.Size == 0:
		return ""
	case old.Size == size && old.Root != root:
		return fmt.Sprintf("the log's root differs from checkpoint %s of the same size %d", old.Root, size)
	case old.Size == size:
		return ""
	}
	proof, err := tlog.ProveTree(size, old.Size, newHashCache(ctx, q))
	if err == nil {
		err = tlog.CheckTree(proof, size, root, old.Size, old.Root)
	}
	if err != nil {
		return fmt.Sprintf("the log does not extend checkpoint %d/%s: %v", old.Size, old.Root, err)
	}
	return ""
}
