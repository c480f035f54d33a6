package identity

import (
	"context"
	"log/slog"
	"time"

	"github.com/lib/pq"
)

// ListenForRevocations keeps this server's revocation cache exact until
// ctx ends (see revocations): it listens, on a connection of its own to
// the database at dsn (the app's), for the notices of every change that
// may end a user's sign-ins. While it listens, a user's epoch is read
// once and remembered (up to 10 minutes) instead of every few seconds,
// and a change stops the user's tokens here as soon as its notice
// arrives. While its connection is down, nothing is remembered for
// longer than RevocationCacheTTL, as without it.
func (s *Service) ListenForRevocations(ctx context.Context, dsn string) {
	r := s.revoked
	l := pq.NewListener(dsn, 100*time.Millisecond, 5*time.Second, func(ev pq.ListenerEventType, err error) {
		switch ev {
		case pq.ListenerEventDisconnected: // notices may be lost from now on
			r.forgetAll(false)
			slog.Warn("identity: revocation notices lost their connection; reconnecting", "err", err)
		case pq.ListenerEventReconnected: // listening again: what came in between is unknown
			r.forgetAll(true)
		case pq.ListenerEventConnectionAttemptFailed:
			slog.Warn("identity: cannot connect for revocation notices", "err", err)
		}
	})
	go func() {
		<-ctx.Done()
		_ = l.Close()
	}()
	go func() {
		// Listen returns once the channel is listened on (waiting for the
		// first connection); only then is a remembered epoch exact.
		if err := l.Listen(revocationChannel); err != nil {
			if ctx.Err() == nil {
				slog.Error("identity: cannot listen for revocation notices", "err", err)
			}
			return
		}
		r.forgetAll(true)
		for n := range l.NotificationChannel() {
			if n != nil { // nil: reconnected, handled by the event above
				r.notice(n.Extra)
			}
		}
	}()
}
