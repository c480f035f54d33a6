package identity

import (
	"context"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// totpOpts are the parameters every authenticator app understands: 6
// digits, 30 s, SHA-1, one step of skew either way.
var totpOpts = totp.ValidateOpts{Period: 30, Skew: 1, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// validTOTP reports whether code is valid for secret now.
func validTOTP(secret, code string, now time.Time) bool {
	ok, err := totp.ValidateCustom(strings.ReplaceAll(strings.TrimSpace(code), " ", ""), secret, now.UTC(), totpOpts)
	return err == nil && ok
}

// TOTPCode returns the current code for secret (used by tests and by the
// development accounts page).
func TOTPCode(secret string, now time.Time) string {
	c, _ := totp.GenerateCodeCustom(secret, now.UTC(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	return c
}

// checkSecondFactor accepts the current TOTP code, or an unused recovery
// code (which is then spent).
func (s *Service) checkSecondFactor(ctx context.Context, u *userRow, code string) bool {
	if u.TOTPSecret.Valid && validTOTP(u.TOTPSecret.String, code, time.Now()) {
		return true
	}
	return s.useRecoveryCode(ctx, u, code)
}

// useRecoveryCode spends a recovery code of u; false when none matches.
func (s *Service) useRecoveryCode(ctx context.Context, u *userRow, code string) bool {
	norm := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(code), "-", ""))
	if len(norm) < 10 {
		return false
	}
	res, err := s.db.ExecContext(ctx, `UPDATE recovery_codes SET used_at = now()
		WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL`, u.ID, hashToken(norm))
	if err != nil {
		return false
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return false
	}
	_ = audit(ctx, s.db, Event{Name: EventRecoveryUsed, SubjectID: &u.ID, ActorID: &u.ID, OrgID: &u.OrgID, IP: clientIP(ctx)})
	return true
}
