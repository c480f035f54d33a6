package db

import (
	"context"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
)

// Statements are a domain's hot statements, prepared once on its pool:
// database/sql then keeps each prepared on every connection that ran it,
// so later runs send no query text (one round trip: bind and execute) and
// PostgreSQL parses them once per connection and, after a few runs, plans
// them once (a generic plan). The zero value is not usable: NewStatements.
type Statements struct {
	db *sqlx.DB
	mu sync.Mutex
	m  map[string]*sqlx.Stmt // nil while its preparation is under way
}

// NewStatements returns the statements of the pool dbx.
func NewStatements(dbx *sqlx.DB) *Statements {
	return &Statements{db: dbx, m: map[string]*sqlx.Stmt{}}
}

// cached returns query's prepared statement, or nil the first times, when
// it starts preparing it in the background. Preparing takes a connection
// of the pool; a caller holding a transaction must never wait for one (a
// small pool, the seed's two connections, deadlocked that way).
func (s *Statements) cached(query string) *sqlx.Stmt {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, seen := s.m[query]
	if !seen {
		s.m[query] = nil
		go s.prepare(query)
	}
	return st
}

// prepare prepares query on the pool and keeps it; on failure the next
// caller tries again.
func (s *Statements) prepare(query string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := s.db.PreparexContext(ctx, query)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		delete(s.m, query)
		return
	}
	s.m[query] = st
}

// Get runs query in tx, or on the pool when tx is nil (prepared once it
// is), and scans its one row into dest.
func (s *Statements) Get(ctx context.Context, tx *sqlx.Tx, dest any, query string, args ...any) error {
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
