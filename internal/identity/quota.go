package identity

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
)

// Invitations are throttled, because each one mails a stranger and tells
// the inviter a little (whether the address then appears among their
// people): at most Config.InvitesPerMinute requests a minute per person (a
// CSV file is one request) and at most Config.InvitesPerDay invitations a
// day per inviting organisation (every row of a file counts). Windows are
// calendar minutes and days (UTC). The quota is taken in the invitation's
// transaction, so an invitation that fails gives it back, and an
// idempotent replay takes none.

// takeInvitationQuota takes n invitations from the actor's quotas.
// Errors: rate_limited (details.retry_after_seconds).
func (s *Service) takeInvitationQuota(ctx context.Context, tx *sqlx.Tx, actor *auth.Principal, n int) error {
	if err := takeQuota(ctx, tx, "invite:user:"+actor.UserID.String(), 1, s.cfg.InvitesPerMinute, time.Minute); err != nil {
		return err
	}
	return takeQuota(ctx, tx, "invite:org:"+actor.OrgID.String(), n, s.cfg.InvitesPerDay, 24*time.Hour)
}

// quotaAllows reports (rate_limited) whether the actor's quotas could take
// n invitations now, taking nothing.
func (s *Service) quotaAllows(ctx context.Context, tx *sqlx.Tx, actor *auth.Principal, n int) error {
	if _, err := tx.ExecContext(ctx, `SAVEPOINT quota_check`); err != nil {
		return apperr.Wrap(err, "checking the invitation quota")
	}
	quotaErr := s.takeInvitationQuota(ctx, tx, actor, n)
	if _, err := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT quota_check`); err != nil {
		return apperr.Wrap(err, "checking the invitation quota")
	}
	return quotaErr
}

// takeQuota counts n against key's limit in the current window, or
// refuses them all. Errors: rate_limited.
func takeQuota(ctx context.Context, tx *sqlx.Tx, key string, n, limit int, window time.Duration) error {
	count, retry, err := addToCounter(ctx, tx, key, n, limit, window)
	if err != nil {
		return apperr.Wrap(err, "counting invitations")
	}
	if count < 0 {
		secs := int(retry.Seconds()) + 1
		return apperr.New(apperr.RateLimited, "too many invitations: at most %d in this %v; try again in %d s", limit, window, secs).
			With("retry_after_seconds", secs)
	}
	return nil
}
