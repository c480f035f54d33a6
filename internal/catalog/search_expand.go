package catalog

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/db"
)

// How long an expansion is reused. Synonyms are checked at most every
// synonymsCheckEvery (a change drops every expansion); the catalogue's
// vocabulary, which decides typo corrections, compound words and the
// words' rarity, changes with every offering, so an expansion is also
// redone after expansionTTL.
const (
	expansionTTL        = time.Minute
	synonymsCheckEvery  = 5 * time.Second
	maxCachedExpansions = 10_000
)

// expansions caches, per search text, what catalog_query_groups makes of
// it. Expanding a text costs a round trip and a few milliseconds of
// PL/pgSQL (more on a connection's first call); people repeat searches, so
// each server keeps the answers for a minute. Safe for concurrent use.
type expansions struct {
	mu        sync.Mutex
	now       func() time.Time
	entries   map[string]expansion
	synonyms  string    // fingerprint of catalog_synonyms the entries were made with
	checkedAt time.Time // when the fingerprint was last read
}

type expansion struct {
	groups []queryGroup
	at     time.Time
}

func newExpansions() *expansions {
	return &expansions{now: time.Now, entries: map[string]expansion{}}
}

// expansionKey is the text as catalog_query_groups reads it: case and
// spacing do not change its groups.
func expansionKey(text string) string {
	return strings.Join(strings.Fields(strings.ToLower(text)), " ")
}

// groups returns the groups of text, from the cache when they are fresh.
func (e *expansions) groups(ctx context.Context, dbq sqlx.QueryerContext, text string) ([]queryGroup, error) {
	key := expansionKey(text)
	if err := e.checkSynonyms(ctx, dbq); err != nil {
		return nil, err
	}
	e.mu.Lock()
	x, ok := e.entries[key]
	e.mu.Unlock()
	if ok && e.now().Sub(x.at) < expansionTTL {
		return x.groups, nil
	}
	gs, err := queryGroups(ctx, dbq, text)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	if len(e.entries) >= maxCachedExpansions {
		clear(e.entries)
	}
	e.entries[key] = expansion{groups: gs, at: e.now()}
	e.mu.Unlock()
	return gs, nil
}

// checkSynonyms drops every expansion when catalog_synonyms has changed
// since it last looked, which it does at most every synonymsCheckEvery:
// an edited synonym reaches every server's searches within seconds.
func (e *expansions) checkSynonyms(ctx context.Context, dbq sqlx.QueryerContext) error {
	e.mu.Lock()
	due := e.now().Sub(e.checkedAt) >= synonymsCheckEvery
	e.mu.Unlock()
	if !due {
		return nil
	}
	var fp string
	err := sqlx.GetContext(ctx, dbq, &fp, `SELECT md5(coalesce(string_agg(term || '=' || related, ';' ORDER BY term), '')) FROM catalog_synonyms`)
	if err != nil {
		return db.MapError(err, "search")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if fp != e.synonyms {
		clear(e.entries)
		e.synonyms = fp
	}
	e.checkedAt = e.now()
	return nil
}

func queryGroups(ctx context.Context, dbq sqlx.QueryerContext, text string) ([]queryGroup, error) {
	var gs []queryGroup
	err := sqlx.SelectContext(ctx, dbq, &gs, `SELECT query::text AS query, exact::text AS exact, weight FROM catalog_query_groups($1)`, text)
	return gs, db.MapError(err, "search")
}
