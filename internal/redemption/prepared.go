package redemption

import (
	"context"
	"sync"

	"github.com/jmoiron/sqlx"
)

// statements are the hot path's statements (a booking's, a validation's),
// prepared once on the pool: database/sql then keeps each prepared on every
// connection that ran it, so later runs send no query text (one round
// trip: bind and execute) and PostgreSQL parses them once per connection
// and, after a few runs, plans them once (a generic plan).
type statements struct {
	mu sync.Mutex
	m  map[string]*sqlx.Stmt
}

// prepared returns query as a statement of tx, prepared on tx's
// connection the first time that connection runs it.
func (s *Service) prepared(ctx context.Context, tx *sqlx.Tx, query string) (*sqlx.Stmt, error) {
	s.stmts.mu.Lock()
	st := s.stmts.m[query]
	if st == nil {
		var err error
		if st, err = s.db.PreparexContext(ctx, query); err != nil {
			s.stmts.mu.Unlock()
			return nil, err
		}
		if s.stmts.m == nil {
			s.stmts.m = map[string]*sqlx.Stmt{}
		}
		s.stmts.m[query] = st
	}
	s.stmts.mu.Unlock()
	return tx.StmtxContext(ctx, st), nil
}

// getPrepared runs query (prepared) in tx and scans its one row into dest.
func (s *Service) getPrepared(ctx context.Context, tx *sqlx.Tx, dest any, query string, args ...any) error {
	st, err := s.prepared(ctx, tx, query)
	if err != nil {
		return err
	}
	return st.GetContext(ctx, dest, args...)
}
