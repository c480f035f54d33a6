package identity

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/db"
)

// revocations answers, for every request with an access token, whether
// the token's user still stands where the token says: the same revocation
// epoch (no sign-out, new password, role change since it was signed) and
// still active. An app server remembers what it read of a user:
//
//   - while it listens for the database's revocation notices
//     (ListenForRevocations: every change to a user's epoch, status, roles
//     or organisation's status notifies, at commit), for up to
//     listenedTTL: a change stops the user's tokens on every server as soon
//     as its notice arrives, a few milliseconds after the commit;
//   - otherwise (not listening, or the listening connection was lost and
//     everything remembered dropped) for up to ttl (≤ 5 s): a change stops
//     the tokens within ttl.
//
// The server that makes a change also forgets the user itself (forget),
// so there it holds on the very next request. Browser sessions need none
// of this: they are read from the database on every request.
type revocations struct {
	ttl         time.Duration // when not listening
	listenedTTL time.Duration // when listening: a bound in case a notice is ever lost
	mu          sync.Mutex
	m           map[uuid.UUID]cachedEpoch
	// listening: the notices' connection is up and was so when the
	// remembered entries were read.
	listening bool
	// gen counts what may have made a read stale (a notice, a lost or new
	// connection): a read that saw gen move while it ran is remembered for
	// ttl only, since its notice may have been handled before it was stored.
	gen uint64
}

type cachedEpoch struct {
	userEpoch
	at  time.Time
	ttl time.Duration
}

// listenedTTL bounds what a listening server remembers of a user: the
// notices keep it exact, this only limits how long a notice lost to a
// fault nobody saw (never observed) could go unnoticed.
const listenedTTL = 10 * time.Minute

// maxCachedUsers bounds the cache; past it, stale entries are dropped, and
// if that is not enough, all of them.
const maxCachedUsers = 100_000

// revocationChannel is where the database announces changes that may end
// a user's sign-ins (migration 00240): the user's id, or "*" for changes
// that may touch many users (an organisation's status).
const revocationChannel = "identity_revocations"

func newRevocations(ttl time.Duration) *revocations {
	return &revocations{ttl: ttl, listenedTTL: listenedTTL, m: map[uuid.UUID]cachedEpoch{}}
}

// forget drops what this server knows of user, so a change it made itself
// holds here at once.
func (r *revocations) forget(user uuid.UUID) {
	r.mu.Lock()
	delete(r.m, user)
	r.gen++
	r.mu.Unlock()
}

// forgetAll drops everything, and says whether entries read from now on
// may be trusted for listenedTTL (the notices' connection is up).
func (r *revocations) forgetAll(listening bool) {
	r.mu.Lock()
	clear(r.m)
	r.gen++
	r.listening = listening
	r.mu.Unlock()
}

// errRevoked is the answer to a token whose sign-in has ended; clients
// refresh (which fails too when the whole account was shut).
var errRevoked = apperr.New(apperr.Unauthorized, "this access token was revoked: refresh it or sign in again")

// check refuses a token of user signed at epoch when the user's sign-ins
// ended since, or the user can no longer act. Errors: unauthorized;
// internal when the database cannot be read (a token is never let through
// unchecked).
func (r *revocations) check(ctx context.Context, st *db.Statements, user uuid.UUID, epoch int) error {
	now := time.Now()
	r.mu.Lock()
	e, ok := r.m[user]
	gen := r.gen
	r.mu.Unlock()
	if !ok || now.Sub(e.at) >= e.ttl {
		cur, err := epochOf(ctx, st, user)
		if apperr.Is(err, apperr.NotFound) {
			return errRevoked
		}
		if err != nil {
			return apperr.Wrap(err, "checking token revocation")
		}
		r.mu.Lock()
		e = cachedEpoch{userEpoch: cur, at: now, ttl: r.ttl}
		if r.listening && r.gen == gen {
			e.ttl = r.listenedTTL
		}
		if len(r.m) >= maxCachedUsers {
			for id, old := range r.m {
				if now.Sub(old.at) >= old.ttl {
					delete(r.m, id)
				}
			}
			if len(r.m) >= maxCachedUsers {
				clear(r.m)
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

// notice applies one revocation notice: a user's id, or "*" (or anything
// else) for all.
func (r *revocations) notice(payload string) {
	if id, err := uuid.Parse(payload); err == nil {
		r.forget(id)
		return
	}
	r.forgetAll(true)
}
