package identity

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"image/png"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// matchTOTP returns the 30-second step whose code is code, trying the
// current step and one either side (clock skew); ok is false when none
// matches.
func matchTOTP(secret, code string, now time.Time) (step int64, ok bool) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != 6 {
		return 0, false
	}
	for _, skew := range []time.Duration{0, -30 * time.Second, 30 * time.Second} {
		at := now.Add(skew)
		if constantTimeEqual(TOTPCode(secret, at), code) {
			return at.Unix() / 30, true
		}
	}
	return 0, false
}

// DevTOTPKey seals second-factor secrets in development and test (the demo
// data uses it). Production refuses to start without TOTP_ENCRYPTION_KEY.
var DevTOTPKey = func() []byte { k := sha256.Sum256([]byte("reciproca: development-only TOTP sealing key")); return k[:] }()

// SealTOTPSecret encrypts a second-factor secret for storage (AES-256-GCM,
// "v1." + base64(nonce | ciphertext)): a copy of the database alone does
// not let anyone produce codes.
func SealTOTPSecret(key []byte, secret string) string {
	gcm := mustGCM(key)
	nonce := make([]byte, gcm.NonceSize())
	_, _ = rand.Read(nonce)
	return "v1." + base64.RawStdEncoding.EncodeToString(gcm.Seal(nonce, nonce, []byte(secret), nil))
}

func openTOTPSecret(key []byte, sealed string) (string, error) {
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimPrefix(sealed, "v1."))
	gcm := mustGCM(key)
	if err != nil || !strings.HasPrefix(sealed, "v1.") || len(raw) < gcm.NonceSize() {
		return "", errors.New("malformed sealed TOTP secret")
	}
	plain, err := gcm.Open(nil, raw[:gcm.NonceSize()], raw[gcm.NonceSize():], nil)
	if err != nil {
		return "", fmt.Errorf("opening TOTP secret (wrong TOTP_ENCRYPTION_KEY?): %w", err)
	}
	return string(plain), nil
}

func mustGCM(key []byte) cipher.AEAD {
	block, err := aes.NewCipher(key)
	if err != nil {
		panic("TOTP key must be 32 bytes: " + err.Error()) // checked by config
	}
	gcm, _ := cipher.NewGCM(block)
	return gcm
}

// totpSecret returns the user's second-factor secret, if any.
func (s *Service) totpSecret(u *userRow) (string, bool) {
	if !u.TOTPSecret.Valid {
		return "", false
	}
	secret, err := openTOTPSecret(s.cfg.TOTPKey, u.TOTPSecret.String)
	if err != nil {
		slog.Error("unreadable TOTP secret", "user_id", u.ID, "err", err)
		return "", false
	}
	return secret, true
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
	secret, has := s.totpSecret(u)
	if step, ok := matchTOTP(secret, code, time.Now()); has && ok {
		// A code is accepted once: a code seen over someone's shoulder (or
		// replayed from a log) cannot be used again in its window.
		fresh, err := advanceTOTPStep(ctx, s.db, u.ID, step)
		return err == nil && fresh
	}
	return s.useRecoveryCode(ctx, u, code)
}

// useRecoveryCode spends a recovery code of u; false when none matches.
func (s *Service) useRecoveryCode(ctx context.Context, u *userRow, code string) bool {
	norm := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(code), "-", ""))
	if len(norm) < 10 {
		return false
	}
	if spent, err := spendRecoveryCode(ctx, s.db, u.ID, hashToken(norm)); err != nil || !spent {
		return false
	}
	_ = audit(ctx, s.db, Event{Name: EventRecoveryUsed, SubjectID: &u.ID, ActorID: &u.ID, OrgID: &u.OrgID, IP: auth.ClientIP(ctx)})
	return true
}

// TOTPSetup is what a person needs to add the account to an authenticator
// app: the secret (to type) and the otpauth:// URI (as a QR code).
type TOTPSetup struct {
	Secret string
	URI    string
	QRPNG  []byte
}

// BeginTOTP returns the pending second-factor secret of the caller,
// creating one if needed. It takes effect only when confirmed with a code
// (ConfirmTOTP). Errors: conflict (already enabled), unauthorized.
func (s *Service) BeginTOTP(ctx context.Context, actor *auth.Principal) (*TOTPSetup, error) {
	u, err := s.activeUser(ctx, s.db, actor.UserID)
	if err != nil {
		return nil, err
	}
	if u.TOTPEnabled {
		return nil, apperr.New(apperr.Conflict, "two-factor authentication is already enabled")
	}
	secret, has := s.totpSecret(u)
	if !has {
		key, err := totp.Generate(totp.GenerateOpts{Issuer: "Reciproca", AccountName: u.Email})
		if err != nil {
			return nil, apperr.Wrap(err, "generating TOTP secret")
		}
		secret = key.Secret()
		if err := setPendingTOTPSecret(ctx, s.db, u.ID, SealTOTPSecret(s.cfg.TOTPKey, secret)); err != nil {
			return nil, apperr.Wrap(err, "storing TOTP secret")
		}
	}
	key, err := otp.NewKeyFromURL(fmt.Sprintf("otpauth://totp/Reciproca:%s?secret=%s&issuer=Reciproca&algorithm=SHA1&digits=6&period=30",
		url.PathEscape(u.Email), secret))
	if err != nil {
		return nil, apperr.Wrap(err, "building TOTP URI")
	}
	setup := &TOTPSetup{Secret: secret, URI: key.URL()}
	if img, err := key.Image(200, 200); err == nil {
		var buf bytes.Buffer
		if png.Encode(&buf, img) == nil {
			setup.QRPNG = buf.Bytes()
		}
	}
	return setup, nil
}

// RecoveryCodeCount is how many recovery codes a person gets.
const RecoveryCodeCount = 10

// ConfirmTOTP enables the second factor once the person proves their app
// produces the right code, and returns fresh recovery codes (shown once;
// stored hashed). Errors: invalid (wrong code), conflict (no setup begun
// or already enabled).
func (s *Service) ConfirmTOTP(ctx context.Context, actor *auth.Principal, code string) ([]string, error) {
	var codes []string
	err := db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		u, err := s.activeUser(ctx, tx, actor.UserID)
		if err != nil {
			return err
		}
		secret, has := s.totpSecret(u)
		if u.TOTPEnabled || !has {
			return apperr.New(apperr.Conflict, "no two-factor setup is in progress")
		}
		step, ok := matchTOTP(secret, code, time.Now())
		if !ok {
			return apperr.New(apperr.Invalid, "the code is not right: check the time on your phone and try the next code").With("field", "code")
		}
		if err := enableTOTP(ctx, tx, u.ID, step); err != nil {
			return err
		}
		codes, err = replaceRecoveryCodes(ctx, tx, u.ID)
		if err != nil {
			return err
		}
		return audit(ctx, tx, Event{Name: EventTOTPEnabled, ActorID: &u.ID, OrgID: &u.OrgID, SubjectID: &u.ID, Email: u.Email, IP: auth.ClientIP(ctx)})
	})
	if err != nil {
		return nil, apperr.Wrap(err, "enabling two-factor authentication")
	}
	return codes, nil
}

// replaceRecoveryCodes discards a user's recovery codes and makes new ones.
func replaceRecoveryCodes(ctx context.Context, tx sqlx.ExtContext, user uuid.UUID) ([]string, error) {
	const alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
	codes, hashes := make([]string, RecoveryCodeCount), make([][]byte, RecoveryCodeCount)
	for i := range codes {
		b := make([]byte, 10)
		_, _ = rand.Read(b)
		for j := range b {
			b[j] = alphabet[int(b[j])%len(alphabet)]
		}
		codes[i] = string(b[:5]) + "-" + string(b[5:])
		hashes[i] = hashToken(string(b))
	}
	if err := storeRecoveryCodes(ctx, tx, user, hashes); err != nil {
		return nil, err
	}
	return codes, nil
}
