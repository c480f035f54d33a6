package identity

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/db"
)

// The store's credentials: one-time links, refresh tokens, second factors.

// The purposes of one-time links.
const (
	purposeInvitation    = "invitation"
	purposePasswordReset = "password_reset"
	purposeUnlock        = "unlock"
)

// errDeadLink is the one answer to an unknown, used or expired link.
var errDeadLink = apperr.New(apperr.NotFound, "this link is not valid any more: it was used already or has expired")

// insertOneTimeTokens stores a link (by its hash) for each of users.
func insertOneTimeTokens(ctx context.Context, q sqlx.ExecerContext, users []uuid.UUID, hashes [][]byte, purpose string, expires time.Time) error {
	ids := make([]string, len(users))
	for i, u := range users {
		ids[i] = u.String()
	}
	_, err := q.ExecContext(ctx, `INSERT INTO user_tokens (token_hash, user_id, purpose, expires_at)
		SELECT h, u::uuid, $3, $4 FROM unnest($1::bytea[], $2::text[]) AS t(h, u)`,
		pq.ByteaArray(hashes), pq.Array(ids), purpose, expires)
	return err
}

// lockOneTimeToken returns the user of a live link and locks the link.
// Errors: not_found (errDeadLink).
func lockOneTimeToken(ctx context.Context, q sqlx.QueryerContext, hash []byte, purpose string) (uuid.UUID, error) {
	var uid uuid.UUID
	err := sqlx.GetContext(ctx, q, &uid, `SELECT user_id FROM user_tokens
		WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > now() FOR UPDATE`, hash, purpose)
	if errors.Is(err, sql.ErrNoRows) {
		return uuid.Nil, errDeadLink
	}
	return uid, err
}

// useOneTimeTokens spends every live link of user for purpose.
func useOneTimeTokens(ctx context.Context, q sqlx.ExecerContext, user uuid.UUID, purpose string) error {
	_, err := q.ExecContext(ctx, `UPDATE user_tokens SET used_at = now() WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL`, user, purpose)
	return err
}

// revokeRefreshTokens ends every API sign-in (refresh family) of user and
// raises their revocation epoch, so their access tokens stop working too.
func revokeRefreshTokens(ctx context.Context, q sqlx.ExecerContext, user uuid.UUID) error {
	_, err := q.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, user)
	if err != nil {
		return err
	}
	return raiseEpoch(ctx, q, user)
}

// raiseEpoch makes every access token user holds stale (accessClaims.Epoch).
func raiseEpoch(ctx context.Context, q sqlx.ExecerContext, user uuid.UUID) error {
	_, err := q.ExecContext(ctx, `UPDATE users SET auth_epoch = auth_epoch + 1 WHERE id = $1`, user)
	return err
}

// userEpoch is what the revocation check needs to know of a user now.
type userEpoch struct {
	Epoch  int  `db:"auth_epoch"`
	Active bool `db:"active"`
}

// epochOf reads user's revocation epoch and whether they may still act
// (active, in an active organisation, with a role), on the pool, prepared
// (every API request of a user the server does not remember reads it).
// Errors: not_found.
func epochOf(ctx context.Context, st *db.Statements, user uuid.UUID) (userEpoch, error) {
	var e userEpoch
	err := st.Get(ctx, nil, &e, `SELECT u.auth_epoch,
		u.status = 'active' AND o.status = 'active' AND EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id) AS active
		FROM users u JOIN organisations o ON o.id = u.organisation_id WHERE u.id = $1`, user)
	if errors.Is(err, sql.ErrNoRows) {
		return e, errNoUser
	}
	return e, err
}

// advanceTOTPStep records that the code of step was used; false when that
// step (or a later one) was used already.
func advanceTOTPStep(ctx context.Context, q sqlx.ExecerContext, user uuid.UUID, step int64) (bool, error) {
	res, err := q.ExecContext(ctx, `UPDATE users SET totp_last_step = $2
		WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)`, user, step)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// spendRecoveryCode marks the unused code with this hash used; false when
// there is none.
func spendRecoveryCode(ctx context.Context, q sqlx.ExecerContext, user uuid.UUID, hash []byte) (bool, error) {
	res, err := q.ExecContext(ctx, `UPDATE recovery_codes SET used_at = now()
		WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL`, user, hash)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// setPendingTOTPSecret stores a sealed secret being set up; an enabled
// second factor is never replaced this way.
func setPendingTOTPSecret(ctx context.Context, q sqlx.ExecerContext, user uuid.UUID, sealed string) error {
	_, err := q.ExecContext(ctx, `UPDATE users SET totp_secret = $2 WHERE id = $1 AND totp_enabled_at IS NULL`, user, sealed)
	return err
}

// enableTOTP turns the pending secret on, its first code (step) spent.
func enableTOTP(ctx context.Context, q sqlx.ExecerContext, user uuid.UUID, step int64) error {
	_, err := q.ExecContext(ctx, `UPDATE users SET totp_enabled_at = now(), totp_last_step = $2, updated_at = now() WHERE id = $1`, user, step)
	return err
}

// storeRecoveryCodes replaces user's recovery codes with these hashes.
func storeRecoveryCodes(ctx context.Context, q sqlx.ExecerContext, user uuid.UUID, hashes [][]byte) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, user); err != nil {
		return err
	}
	_, err := q.ExecContext(ctx, `INSERT INTO recovery_codes (user_id, code_hash) SELECT $1, h FROM unnest($2::bytea[]) AS t(h)`,
		user, pq.ByteaArray(hashes))
	return err
}

// refreshRow is one refresh token of a family.
type refreshRow struct {
	ID        uuid.UUID    `db:"id"`
	FamilyID  uuid.UUID    `db:"family_id"`
	UserID    uuid.UUID    `db:"user_id"`
	ExpiresAt time.Time    `db:"expires_at"`
	RotatedAt sql.NullTime `db:"rotated_at"`
	RevokedAt sql.NullTime `db:"revoked_at"`
}

func insertRefresh(ctx context.Context, q sqlx.ExecerContext, family, user uuid.UUID, hash []byte, expires time.Time) error {
	_, err := q.ExecContext(ctx, `INSERT INTO refresh_tokens (family_id, user_id, token_hash, expires_at) VALUES ($1, $2, $3, $4)`,
		family, user, hash, expires)
	return err
}

// refreshForUpdate locks the token row so two concurrent refreshes with the
// same token cannot both succeed. Errors: not_found.
func refreshForUpdate(ctx context.Context, q sqlx.QueryerContext, hash []byte) (*refreshRow, error) {
	var r refreshRow
	err := sqlx.GetContext(ctx, q, &r, `SELECT id, family_id, user_id, expires_at, rotated_at, revoked_at
		FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE`, hash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.New(apperr.NotFound, "unknown refresh token")
	}
	if err != nil {
		return nil, err
	}
	return &r, nil
}

func markRotated(ctx context.Context, q sqlx.ExecerContext, id uuid.UUID) error {
	_, err := q.ExecContext(ctx, `UPDATE refresh_tokens SET rotated_at = now() WHERE id = $1`, id)
	return err
}

// revokeFamily ends one API sign-in of user. Its access tokens cannot be
// told from the user's others, so the user's epoch rises: their other API
// clients refresh once.
func revokeFamily(ctx context.Context, q sqlx.ExecerContext, user, family uuid.UUID) error {
	_, err := q.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL`, family)
	if err != nil {
		return err
	}
	return raiseEpoch(ctx, q, user)
}

// revokeUserCredentials ends every sign-in of a user: refresh tokens,
// access tokens and browser sessions, except the browser session whose
// token hash is keep (nil: none is kept).
func revokeUserCredentials(ctx context.Context, q sqlx.ExecerContext, user uuid.UUID, keep []byte) error {
	if err := revokeRefreshTokens(ctx, q, user); err != nil {
		return err
	}
	_, err := q.ExecContext(ctx, `DELETE FROM web_sessions WHERE user_id = $1 AND ($2::bytea IS NULL OR token_hash <> $2)`, user, keep)
	return err
}

func insertSession(ctx context.Context, q sqlx.ExecerContext, user uuid.UUID, hash []byte, expires time.Time) error {
	_, err := q.ExecContext(ctx, `INSERT INTO web_sessions (token_hash, user_id, expires_at) VALUES ($1, $2, $3)`, hash, user, expires)
	return err
}

// sessionUser returns the user of a live session. Errors: not_found.
func sessionUser(ctx context.Context, q sqlx.QueryerContext, hash []byte) (*userRow, error) {
	return getUser(ctx, q, userSelect+` JOIN web_sessions s ON s.user_id = u.id WHERE s.token_hash = $1 AND s.expires_at > now()`, hash)
}

func deleteSession(ctx context.Context, q sqlx.ExecerContext, hash []byte) error {
	_, err := q.ExecContext(ctx, `DELETE FROM web_sessions WHERE token_hash = $1`, hash)
	return err
}

// throttleState is how a throttle key stands.
type throttleState struct {
	Failures     int          `db:"failures"`
	LockedUntil  sql.NullTime `db:"locked_until"`
	UnlockMailed sql.NullTime `db:"unlock_mailed_at"`
}

func lockedUntil(ctx context.Context, q sqlx.QueryerContext, keys []string) (time.Time, error) {
	var t sql.NullTime
	err := sqlx.GetContext(ctx, q, &t, `SELECT max(locked_until) FROM auth_throttle WHERE key = ANY($1) AND locked_until > now()`, pq.Array(keys))
	return t.Time, err
}

// recordFailure counts a failure of key; failures are forgotten after
// window without one. Past free failures the key must wait before its
// next attempt: first, then twice as long after each further failure, at
// most max (a delay, never a lock that outlasts max). It returns the new
// state.
func recordFailure(ctx context.Context, q sqlx.QueryerContext, key string, free int, first, max, window time.Duration) (throttleState, error) {
	var st throttleState
	err := sqlx.GetContext(ctx, q, &st, `
INSERT INTO auth_throttle AS a (key, failures, window_start) VALUES ($1, 1, now())
ON CONFLICT (key) DO UPDATE SET
    failures = CASE WHEN a.window_start < now() - $2::interval THEN 1 ELSE a.failures + 1 END,
    window_start = now()
RETURNING failures, locked_until, unlock_mailed_at`, key, window.String())
	if err != nil || st.Failures <= free {
		return st, err
	}
	delay := max
	if n := st.Failures - free - 1; n < 30 && first<<n < max {
		delay = first << n
	}
	err = sqlx.GetContext(ctx, q, &st, `UPDATE auth_throttle SET locked_until = now() + $2::interval
		WHERE key = $1 RETURNING failures, locked_until, unlock_mailed_at`, key, delay.String())
	return st, err
}

// markUnlockMailed records that key's owner was mailed an unlock link now.
func markUnlockMailed(ctx context.Context, q sqlx.ExecerContext, key string) error {
	_, err := q.ExecContext(ctx, `UPDATE auth_throttle SET unlock_mailed_at = now() WHERE key = $1`, key)
	return err
}

// clearThrottle forgets key's failures and wait; when its owner was last
// mailed an unlock link is kept, so a renewed attack mails at most once
// an hour still.
func clearThrottle(ctx context.Context, q sqlx.ExecerContext, key string) error {
	_, err := q.ExecContext(ctx, `UPDATE auth_throttle SET failures = 0, locked_until = NULL WHERE key = $1`, key)
	return err
}

func insertTrustedDevice(ctx context.Context, q sqlx.ExecerContext, user uuid.UUID, hash []byte, expires time.Time) error {
	_, err := q.ExecContext(ctx, `INSERT INTO trusted_devices (token_hash, user_id, expires_at) VALUES ($1, $2, $3)`, hash, user, expires)
	return err
}

// trustedDeviceFor reports whether the device token with this hash is live
// and belongs to the account of email.
func trustedDeviceFor(ctx context.Context, q sqlx.QueryerContext, hash []byte, email string) (bool, error) {
	var ok bool
	err := sqlx.GetContext(ctx, q, &ok, `SELECT EXISTS (SELECT 1 FROM trusted_devices d JOIN users u ON u.id = d.user_id
		WHERE d.token_hash = $1 AND u.email = $2 AND d.expires_at > now())`, hash, email)
	return ok, err
}
