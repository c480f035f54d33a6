package redemption

import (
	"context"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
)

// statements are the hot path's statements (a booking's, a validation's),
// prepared once on the pool: database/sql then keeps each prepared on every
// connection that ran it, so later runs send no query text (one round
// trip: bind and execute) and PostgreSQL parses them once per connection
// and, after a few runs, plans them once (a generic plan).
type statements struct {
	mu sync.Mutex
	m  map[string]*sqlx.Stmt // nil while its preparation is under way
}

// cached returns query's prepared statement, or nil the first times, when
// it starts preparing it in the background. Preparing takes a connection
// of the pool; a caller holding a transaction must never wait for one (a
// small pool, the seed's two connections, deadlocked that way).
func (s *Service) cached(query string) *sqlx.Stmt {
	s.stmts.mu.Lock()
	defer s.stmts.mu.Unlock()
	st, seen := s.stmts.m[query]
	if !seen {
		if s.stmts.m == nil {
			s.stmts.m = map[string]*sqlx.Stmt{}
		}
		s.stmts.m[query] = nil
		go s.prepare(query)
	}
	return st
}

// prepare prepares query on the pool and keeps it; on failure the next
// caller tries again.
func (s *Service) prepare(query string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := s.db.PreparexContext(ctx, query)
	s.stmts.mu.Lock()
	defer s.stmts.mu.Unlock()
	if err != nil {
		delete(s.stmts.m, query)
		return
	}
	s.stmts.m[query] = st
}

// getPrepared runs query in tx, or on the pool when tx is nil (prepared
// once it is), and scans its one row into dest.
func (s *Service) getPrepared(ctx context.Context, tx *sqlx.Tx, dest any, query string, args ...any) error {
	st := s.cached(query)
	switch {
	case tx == nil && st != nil:
		return st.GetContext(ctx, dest, args...)
	case tx == nil:
		return s.db.GetContext(ctx, dest, query, args...)
	case st != nil:
		return tx.StmtxContext(ctx, st).GetContext(ctx, dest, args...)
	}
	return tx.GetContext(ctx, dest, query, args...)
}
