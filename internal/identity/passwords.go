package identity

import (
	"context"
	"time"

	"github.com/google/uuid"

	rmail "github.com/reciproca/reciproca/internal/mail"

	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"
)

// RequestPasswordReset mails a reset link when email belongs to an active
// account, and does nothing otherwise: the answer is the same either way.
// Requests per address are throttled like failed sign-ins.
func (s *Service) RequestPasswordReset(ctx context.Context, email string) error {
	email = normEmail(email)
	if validEmail(email) != nil {
		return nil
	}
	err := db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		key := "reset:" + email
		until, err := lockedUntil(ctx, tx, []string{key})
		if err != nil || !until.IsZero() {
			return err
		}
		if _, err := recordFailure(ctx, tx, key, s.cfg.MaxFailures, time.Hour, time.Hour, time.Hour); err != nil {
			return err
		}
		u, err := userByEmail(ctx, tx, email)
		if apperr.Is(err, apperr.NotFound) || (err == nil && !u.canSignIn()) {
			return nil
		}
		if err != nil {
			return err
		}
		tok := randomToken()
		if err := insertOneTimeTokens(ctx, tx, []uuid.UUID{u.ID}, [][]byte{hashToken(tok)}, purposePasswordReset, time.Now().Add(PasswordResetTTL)); err != nil {
			return err
		}
		m, err := resetMail(s.cfg.BaseURL, u.Email, u.Name, tok)
		if err != nil {
			return err
		}
		return rmail.Enqueue(ctx, tx, m)
	})
	return apperr.Wrap(err, "requesting password reset")
}

// ResetPassword sets a new password through a reset link, ends every
// other sign-in of the account and lifts a sign-in lockout. Errors:
// invalid (password policy), not_found (bad, used or expired link).
func (s *Service) ResetPassword(ctx context.Context, token, password string) error {
	var user uuid.UUID
	err := db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		u, err := oneTimeToken(ctx, tx, token, purposePasswordReset)
		if err != nil {
			return err
		}
		user = u.ID
		if !u.canSignIn() {
			return errDeadLink
		}
		if err := checkPasswordPolicy(password, u.Email); err != nil {
			return err
		}
		if err := setPasswordHash(ctx, tx, u.ID, hashPassword(s.cfg.Argon2, password)); err != nil {
			return err
		}
		if err := useOneTimeTokens(ctx, tx, u.ID, purposePasswordReset); err != nil {
			return err
		}
		if err := revokeUserCredentials(ctx, tx, u.ID, nil); err != nil {
			return err
		}
		if err := clearThrottle(ctx, tx, "email:"+normEmail(u.Email)); err != nil {
			return err
		}
		return audit(ctx, tx, Event{Name: EventPasswordReset, ActorID: &u.ID, OrgID: &u.OrgID, SubjectID: &u.ID, Email: u.Email, IP: auth.ClientIP(ctx)})
	})
	if err == nil {
		s.revoked.forget(user)
	}
	return apperr.Wrap(err, "resetting password")
}

// ChangePassword changes the caller's password after checking the current
// one. Every other sign-in of the account ends: browser sessions but the
// one whose cookie value is keepSession (the browser asking; "" keeps
// none), API refresh families and access tokens. Errors: invalid,
// unauthorized.
func (s *Service) ChangePassword(ctx context.Context, actor *auth.Principal, current, next, keepSession string) error {
	u, err := s.activeUser(ctx, s.db, actor.UserID)
	if err != nil {
		return err
	}
	var wrong error
	if ok, _ := verifyPassword(s.cfg.Argon2, u.PasswordHash.String, current); !ok {
		wrong = invalidField("current_password", "the current password is not right")
	}
	if err := apperr.AllInvalid(wrong, checkPasswordPolicy(next, u.Email)); err != nil {
		return err
	}
	err = apperr.Wrap(db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if err := setPasswordHash(ctx, tx, u.ID, hashPassword(s.cfg.Argon2, next)); err != nil {
			return err
		}
		var keep []byte
		if keepSession != "" {
			keep = hashToken(keepSession)
		}
		if err := revokeUserCredentials(ctx, tx, u.ID, keep); err != nil {
			return err
		}
		return audit(ctx, tx, Event{Name: EventPasswordReset, ActorID: &u.ID, OrgID: &u.OrgID, SubjectID: &u.ID, Email: u.Email,
			IP: auth.ClientIP(ctx), Details: map[string]any{"how": "changed"}})
	}), "changing password")
	if err == nil {
		s.revoked.forget(u.ID)
	}
	return err
}
