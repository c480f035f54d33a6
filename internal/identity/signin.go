package identity

import (
	"context"
	"crypto/subtle"
	"encoding/hex"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"
)

// Credentials are what a person types to sign in.
type Credentials struct {
	Email    string
	Password string
	// TOTP is the 6-digit code, or a recovery code, when the account has a
	// second factor.
	TOTP string
	// Device is the browser's trusted-device cookie, if any (see Unlock):
	// such a browser signs in past the e-mail's throttle.
	Device string
}

// Tokens are what an API client receives at sign-in and refresh.
type Tokens struct {
	AccessToken  string
	ExpiresAt    time.Time
	RefreshToken string
	Principal    *auth.Principal
}

// errBadCredentials is the one answer to an unknown e-mail, a wrong
// password, an account that cannot sign in and a wrong second factor.
func errBadCredentials() error {
	return apperr.New(apperr.Unauthorized, "e-mail or password is incorrect")
}

// errLocked is the answer while a throttle key waits. It is the same
// whether or not the e-mail has an account.
func errLocked(until time.Time) error {
	secs := max(int(time.Until(until).Seconds())+1, 1)
	return apperr.New(apperr.RateLimited, "too many failed sign-ins: try again shortly; if this address has an account, its owner was mailed a link to unlock sign-in at once").
		With("retry_after_seconds", secs)
}

// ErrSecondFactorRequired is returned (unauthorized,
// details.totp_required=true) when the password is right and the account
// needs its second-factor code.
var ErrSecondFactorRequired = apperr.New(apperr.Unauthorized, "enter the code from your authenticator app").With("totp_required", true)

func normEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// checkCredentials is the common core of API and web sign-in. It returns
// the user when the credentials are right. Errors: rate_limited (the
// e-mail, the trusted device or the client address must wait),
// unauthorized (bad credentials, or totp_required). Every path verifies one
// argon2id hash so timing does not reveal whether the e-mail exists.
//
// Failures are throttled per e-mail and per client address with growing
// delays (recordFailure), never a lock longer than LockoutPeriod. So that
// an attacker cannot keep the owner out by failing on purpose, the owner
// is mailed an unlock link (see Unlock) that trusts their browser: a
// trusted browser is throttled on its own key instead of the e-mail's.
func (s *Service) checkCredentials(ctx context.Context, cr Credentials) (*userRow, error) {
	email, ip := normEmail(cr.Email), auth.ClientIP(ctx)
	if email == "" || cr.Password == "" {
		return nil, errBadCredentials() // nothing to guess with: not counted
	}
	keys := []string{"email:" + email}
	if cr.Device != "" {
		h := hashToken(cr.Device)
		trusted, err := trustedDeviceFor(ctx, s.db, h, email)
		if err != nil {
			return nil, apperr.Wrap(err, "reading trusted device")
		}
		if trusted {
			keys[0] = "device:" + hex.EncodeToString(h)
		}
	}
	if ip != "" {
		keys = append(keys, "ip:"+ip)
	}
	until, err := lockedUntil(ctx, s.db, keys)
	if err != nil {
		return nil, apperr.Wrap(err, "checking sign-in throttle")
	}
	if !until.IsZero() {
		refusal := errLocked(until) // before the hash, which may queue
		if _, _, err := s.verify(ctx, s.dummyHash, cr.Password); err != nil {
			return nil, err
		}
		_ = audit(ctx, s.db, Event{Name: EventLoginLocked, Email: email, IP: ip})
		return nil, refusal
	}
	u, err := userByEmail(ctx, s.db, email)
	if apperr.Is(err, apperr.NotFound) {
		u, err = nil, nil
	}
	if err != nil {
		return nil, apperr.Wrap(err, "reading user")
	}
	hash := s.dummyHash
	if u != nil && u.canSignIn() {
		hash = u.PasswordHash.String
	}
	ok, stale, err := s.verify(ctx, hash, cr.Password)
	if err != nil {
		return nil, err
	}
	ok = ok && u != nil && u.canSignIn()
	reason := "password"
	if ok && u.TOTPEnabled {
		if strings.TrimSpace(cr.TOTP) == "" {
			return nil, ErrSecondFactorRequired
		}
		if !s.checkSecondFactor(ctx, u, cr.TOTP) {
			ok, reason = false, "totp"
		}
	}
	if !ok {
		return nil, s.failedSignIn(ctx, u, email, ip, keys, reason)
	}
	if err := db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if err := clearThrottle(ctx, tx, keys[0]); err != nil {
			return err
		}
		if stale {
			if err := setPasswordHash(ctx, tx, u.ID, hashPassword(s.cfg.Argon2, cr.Password)); err != nil {
				return err
			}
		}
		return audit(ctx, tx, Event{Name: EventLoginSucceeded, SubjectID: &u.ID, ActorID: &u.ID, OrgID: &u.OrgID, Email: email, IP: ip})
	}); err != nil {
		return nil, apperr.Wrap(err, "recording sign-in")
	}
	return u, nil
}

// verify checks a password against a hash, waiting for a hashing slot.
func (s *Service) verify(ctx context.Context, hash, pw string) (ok, stale bool, err error) {
	select {
	case s.hashing <- struct{}{}:
	case <-ctx.Done():
		return false, false, apperr.New(apperr.RateLimited, "the server is busy: try again in a moment")
	}
	defer func() { <-s.hashing }()
	ok, stale = verifyPassword(s.cfg.Argon2, hash, pw)
	return ok, stale, nil
}

// failedSignIn counts the failure against the e-mail (or trusted device)
// and the client address, makes them wait when past their free failures,
// mails the owner of a throttled account an unlock link (at most once an
// hour), and logs it.
func (s *Service) failedSignIn(ctx context.Context, u *userRow, email, ip string, keys []string, reason string) error {
	err := db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		ev := Event{Name: EventLoginFailed, Email: email, IP: ip, Details: map[string]any{"reason": reason}}
		if u != nil {
			ev.SubjectID, ev.OrgID = &u.ID, &u.OrgID
		}
		if err := audit(ctx, tx, ev); err != nil {
			return err
		}
		for i, key := range keys {
			free := s.cfg.MaxFailures
			if i > 0 {
				free = s.cfg.MaxIPFailures
			}
			st, err := recordFailure(ctx, tx, key, free, time.Second, s.cfg.LockoutPeriod, s.cfg.LockoutPeriod)
			if err != nil {
				return err
			}
			if st.Failures != free+1 && !(i == 0 && st.Failures > free) {
				continue
			}
			if st.Failures == free+1 { // the key starts to wait
				ev := ev
				ev.Name, ev.Details = EventLockout, map[string]any{"key": strings.SplitN(key, ":", 2)[0]}
				if err := audit(ctx, tx, ev); err != nil {
					return err
				}
			}
			if i == 0 && strings.HasPrefix(key, "email:") && u != nil && u.canSignIn() &&
				(!st.UnlockMailed.Valid || time.Since(st.UnlockMailed.Time) > time.Hour) {
				if err := s.mailUnlockLink(ctx, tx, u); err != nil {
					return err
				}
				if err := markUnlockMailed(ctx, tx, key); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return apperr.Wrap(err, "recording failed sign-in")
	}
	return errBadCredentials()
}

// Login signs an API client in. Errors: unauthorized (bad credentials;
// details.totp_required when the second-factor code is missing),
// rate_limited (too many failures), forbidden (the account must first set
// up its second factor on the web).
func (s *Service) Login(ctx context.Context, cr Credentials) (*Tokens, error) {
	u, err := s.checkCredentials(ctx, cr)
	if err != nil {
		return nil, err
	}
	if u.needsTOTP() && !u.TOTPEnabled {
		return nil, apperr.New(apperr.Forbidden, "your role requires two-factor authentication: sign in on the web once to set it up")
	}
	var out *Tokens
	err = db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var err error
		out, err = s.issue(ctx, tx, u, uuid.New(), time.Now().Add(s.cfg.RefreshTTL))
		return err
	})
	return out, err
}

// issue creates an access token and a refresh token in family.
func (s *Service) issue(ctx context.Context, tx sqlx.ExtContext, u *userRow, family uuid.UUID, refreshExpires time.Time) (*Tokens, error) {
	p := u.principal()
	access, exp, err := s.tok.issue(p, u.AuthEpoch, time.Now())
	if err != nil {
		return nil, apperr.Wrap(err, "signing access token")
	}
	refresh := randomToken()
	if err := insertRefresh(ctx, tx, family, u.ID, hashToken(refresh), refreshExpires); err != nil {
		return nil, apperr.Wrap(err, "storing refresh token")
	}
	return &Tokens{AccessToken: access, ExpiresAt: exp, RefreshToken: refresh, Principal: p}, nil
}

// Refresh exchanges a refresh token for new tokens; the old one stops
// working. Presenting an already rotated token is treated as theft: the
// whole family (that sign-in) is revoked and logged. Errors: unauthorized.
func (s *Service) Refresh(ctx context.Context, refresh string) (*Tokens, error) {
	var out *Tokens
	var reuse *refreshRow
	err := db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		out, reuse = nil, nil
		r, err := refreshForUpdate(ctx, tx, hashToken(refresh))
		if apperr.Is(err, apperr.NotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if r.RevokedAt.Valid || !r.ExpiresAt.After(time.Now()) {
			return nil
		}
		if r.RotatedAt.Valid {
			reuse = r
			if err := revokeFamily(ctx, tx, r.UserID, r.FamilyID); err != nil {
				return err
			}
			return audit(ctx, tx, Event{Name: EventRefreshReuse, SubjectID: &r.UserID, IP: auth.ClientIP(ctx),
				Details: map[string]any{"family": r.FamilyID}})
		}
		u, err := userByID(ctx, tx, r.UserID)
		if apperr.Is(err, apperr.NotFound) || (err == nil && !u.canSignIn()) {
			return revokeFamily(ctx, tx, r.UserID, r.FamilyID)
		}
		if err != nil {
			return err
		}
		if err := markRotated(ctx, tx, r.ID); err != nil {
			return err
		}
		out, err = s.issue(ctx, tx, u, r.FamilyID, r.ExpiresAt)
		return err
	})
	if err != nil {
		return nil, apperr.Wrap(err, "refreshing tokens")
	}
	if out == nil {
		if reuse != nil {
			slog.WarnContext(ctx, "refresh token reuse: family revoked", "user_id", reuse.UserID, "family", reuse.FamilyID)
		}
		return nil, apperr.New(apperr.Unauthorized, "invalid or expired refresh token")
	}
	return out, nil
}

// Logout revokes the sign-in (refresh-token family) refresh belongs to. An
// unknown token is not an error: the caller is signed out either way.
func (s *Service) Logout(ctx context.Context, refresh string) error {
	var user uuid.UUID
	err := db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		r, err := refreshForUpdate(ctx, tx, hashToken(refresh))
		if apperr.Is(err, apperr.NotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := revokeFamily(ctx, tx, r.UserID, r.FamilyID); err != nil {
			return err
		}
		user = r.UserID
		return audit(ctx, tx, Event{Name: EventLogout, SubjectID: &r.UserID, ActorID: &r.UserID, IP: auth.ClientIP(ctx)})
	})
	if err == nil {
		s.revoked.forget(user)
	}
	return apperr.Wrap(err, "signing out")
}

// VerifyAccessToken returns the caller an access token speaks for: its
// signature and claims hold (checked once per token, see verifiedTokens),
// and its user's sign-ins were not ended since it was signed
// (revocations). Errors: unauthorized; internal when the database cannot
// say.
func (s *Service) VerifyAccessToken(ctx context.Context, token string) (*auth.Principal, error) {
	p, epoch, err := s.verified.verify(s.tok, token, time.Now())
	if err != nil {
		return nil, err
	}
	if err := s.revoked.check(ctx, s.stmts, p.UserID, epoch); err != nil {
		return nil, err
	}
	return p, nil
}

// Me is the caller with their organisation.
type Me struct {
	auth.Principal
	OrgName     string
	TOTPEnabled bool
}

// Me returns the caller as stored now. Errors: unauthorized when the
// account no longer exists or is deactivated.
func (s *Service) Me(ctx context.Context, p *auth.Principal) (*Me, error) {
	u, err := userByID(ctx, s.db, p.UserID)
	if apperr.Is(err, apperr.NotFound) || (err == nil && !u.canSignIn()) {
		return nil, apperr.New(apperr.Unauthorized, "this account is no longer active")
	}
	if err != nil {
		return nil, apperr.Wrap(err, "reading user")
	}
	return &Me{Principal: *u.principal(), OrgName: u.OrgName, TOTPEnabled: u.TOTPEnabled}, nil
}

// constantTimeEqual compares two short secrets.
func constantTimeEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// TokensFor issues API tokens for an active user without a password, as
// after a sign-in. Used when a flow has already proven who the person is
// (and by tests, through identitytest). Errors: not_found, unauthorized.
func (s *Service) TokensFor(ctx context.Context, userID uuid.UUID) (*Tokens, error) {
	var out *Tokens
	err := db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		u, err := s.activeUser(ctx, tx, userID)
		if err != nil {
			return err
		}
		out, err = s.issue(ctx, tx, u, uuid.New(), time.Now().Add(s.cfg.RefreshTTL))
		return err
	})
	return out, err
}

func (s *Service) activeUser(ctx context.Context, q sqlx.QueryerContext, id uuid.UUID) (*userRow, error) {
	u, err := userByID(ctx, q, id)
	if err != nil {
		return nil, err
	}
	if u.Status != "active" || !u.OrgActive || len(u.Roles) == 0 {
		return nil, apperr.New(apperr.Unauthorized, "this account is not active")
	}
	return u, nil
}
