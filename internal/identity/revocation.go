package identity

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
)

// revocations answers, for every request with an access token, whether
// the token's user still stands where the token says: the same revocation
// epoch (no sign-out, new password, role change since it was signed) and
// still active. Each app server asks the database at most once per user
// per ttl, so a deactivation, a sign-out or a removed role stops a token
// on every server within ttl (≤ 5 s) instead of at its expiry
// (ACCESS_TOKEN_TTL). Browser sessions need none of this: they are read
// from the database on every request.
type revocations struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[uuid.UUID]cachedEpoch
}

type cachedEpoch struct {
	userEpoch
	at time.Time
}

// maxCachedUsers bounds the cache; past it, stale entries are dropped.
const maxCachedUsers = 100_000

func newRevocations(ttl time.Duration) *revocations {
	return &revocations{ttl: ttl, m: map[uuid.UUID]cachedEpoch{}}
}

// forget drops what this server knows of user, so a change it made itself
// holds here at once (other servers see it within ttl).
func (r *revocations) forget(user uuid.UUID) {
	r.mu.Lock()
	delete(r.m, user)
	r.mu.Unlock()
}

// errRevoked is the answer to a token whose sign-in has ended; clients
// refresh (which fails too when the whole account was shut).
var errRevoked = apperr.New(apperr.Unauthorized, "this access token was revoked: refresh it or sign in again")

// check refuses a token of user signed at epoch when the user's sign-ins
// ended since, or the user can no longer act. Errors: unauthorized;
// internal when the database cannot be read (a token is never let through
// unchecked).
func (r *revocations) check(ctx context.Context, q sqlx.QueryerContext, user uuid.UUID, epoch int) error {
	now := time.Now()
	r.mu.Lock()
	e, ok := r.m[user]
	r.mu.Unlock()
	if !ok || now.Sub(e.at) >= r.ttl {
		cur, err := epochOf(ctx, q, user)
		if apperr.Is(err, apperr.NotFound) {
			return errRevoked
		}
		if err != nil {
			return apperr.Wrap(err, "checking token revocation")
		}
		e = cachedEpoch{userEpoch: cur, at: now}
		r.mu.Lock()
		if len(r.m) >= maxCachedUsers {
			for id, old := range r.m {
				if now.Sub(old.at) >= r.ttl {
					delete(r.m, id)
				}
			}
		}
		r.m[user] = e
		r.mu.Unlock()
	}
	if !e.Active || epoch != e.Epoch {
		return errRevoked
	}
	return nil
}
