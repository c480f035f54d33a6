package redemption

import (
	"context"

	"github.com/jmoiron/sqlx"
)

// getPrepared runs one of the hot path's statements (a booking's, a
// validation's) in tx, or on the pool when tx is nil, prepared once it is
// (db.Statements), and scans its one row into dest.
func (s *Service) getPrepared(ctx context.Context, tx *sqlx.Tx, dest any, query string, args ...any) error {
	return s.stmts.Get(ctx, tx, dest, query, args...)
}
