package identity

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"
	rmail "github.com/reciproca/reciproca/internal/mail"
)

// An unlock link lives UnlockTTL; the browser it trusts stays trusted for
// TrustedDeviceTTL.
const (
	UnlockTTL        = time.Hour
	TrustedDeviceTTL = 30 * 24 * time.Hour
)

// EventUnlocked: the owner of a throttled account used the unlock link.
const EventUnlocked = "sign_in_unlocked"

// mailUnlockLink mails u a one-time link that unlocks sign-in from the
// browser it is opened in.
func (s *Service) mailUnlockLink(ctx context.Context, tx *sqlx.Tx, u *userRow) error {
	tok := randomToken()
	if err := insertOneTimeTokens(ctx, tx, []uuid.UUID{u.ID}, [][]byte{hashToken(tok)}, purposeUnlock, time.Now().Add(UnlockTTL)); err != nil {
		return err
	}
	m, err := composeMail(u.Email, "unlock", mailLink{Name: u.Name, Link: s.cfg.BaseURL + "/login/unlock?token=" + tok})
	if err != nil {
		return err
	}
	return rmail.Enqueue(ctx, tx, m)
}

// Unlock spends an unlock link: the e-mail's sign-in throttle is lifted
// and a trusted-device token is returned, for the browser to keep in a
// cookie (Credentials.Device). Sign-ins from that browser are throttled on
// their own, so failures made by someone else on the same e-mail do not
// keep it out. The password is not changed and nobody is signed in.
// Errors: not_found (unknown, used or expired link).
func (s *Service) Unlock(ctx context.Context, token string) (string, error) {
	device := randomToken()
	err := db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		u, err := oneTimeToken(ctx, tx, token, purposeUnlock)
		if err != nil {
			return err
		}
		if !u.canSignIn() {
			return errDeadLink
		}
		if err := useOneTimeTokens(ctx, tx, u.ID, purposeUnlock); err != nil {
			return err
		}
		if err := insertTrustedDevice(ctx, tx, u.ID, hashToken(device), time.Now().Add(TrustedDeviceTTL)); err != nil {
			return err
		}
		if err := clearThrottle(ctx, tx, "email:"+normEmail(u.Email)); err != nil {
			return err
		}
		return audit(ctx, tx, Event{Name: EventUnlocked, ActorID: &u.ID, OrgID: &u.OrgID, SubjectID: &u.ID, Email: u.Email, IP: auth.ClientIP(ctx)})
	})
	if err != nil {
		return "", apperr.Wrap(err, "unlocking sign-in")
	}
	return device, nil
}
