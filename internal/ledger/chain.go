package ledger

import (
	"context"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
)

// Seal extends the hash chain over transactions by up to limit
// transactions and returns how many it sealed. Only transactions whose
// writer (and every older writer) has finished are sealed, so the chain
// never has to leave a gap; the write path never waits for it.
func Seal(ctx context.Context, ext sqlx.ExtContext, limit int) (int, error) {
	var n int
	err := sqlx.GetContext(ctx, ext, &n, `SELECT ledger_seal($1)`, limit)
	return n, apperr.Wrap(err, "sealing the ledger chain")
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

// RunSealer seals every interval until ctx ends: the asynchronous sealer
// the app runs next to the API.
func RunSealer(ctx context.Context, dbx *sqlx.DB, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := SealAll(ctx, dbx); err != nil && ctx.Err() == nil {
			slog.ErrorContext(ctx, "ledger sealer", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
