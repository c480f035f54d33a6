package identity

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2Params are the argon2id cost parameters. Hashes carry their own
// parameters (PHC string format), so raising them in config never breaks
// existing passwords: the next successful sign-in re-hashes.
type Argon2Params struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// DefaultArgon2 follows the OWASP recommendation for argon2id.
var DefaultArgon2 = Argon2Params{MemoryKiB: 64 * 1024, Time: 2, Threads: 2}

// MinPasswordLength is the shortest password accepted (ASVS level 2).
const MinPasswordLength = 12

// hashPassword returns the PHC encoding of an argon2id hash of pw.
func hashPassword(p Argon2Params, pw string) string {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.MemoryKiB, p.Threads, 32)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// verifyPassword reports whether pw matches encoded, and whether encoded
// used parameters other than p (so the caller should re-hash).
func verifyPassword(p Argon2Params, encoded, pw string) (ok, stale bool) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, false
	}
	var version int
	var hp Argon2Params
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &hp.MemoryKiB, &hp.Time, &hp.Threads); err != nil {
		return false, false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 || hp.Time == 0 || hp.Threads == 0 {
		return false, false
	}
	got := argon2.IDKey([]byte(pw), salt, hp.Time, hp.MemoryKiB, hp.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, hp != p
}

// checkPasswordPolicy returns an invalid error when pw is too weak to set:
// shorter than MinPasswordLength, the e-mail itself, or common or breached
// (commonPassword). Any other characters, spaces included, are welcome.
func checkPasswordPolicy(pw, email string) error {
	switch {
	case len([]rune(pw)) < MinPasswordLength:
		return invalidField("password", "the password must be at least %d characters long", MinPasswordLength)
	case len(pw) > 256:
		return invalidField("password", "the password must be at most 256 bytes long")
	case strings.EqualFold(pw, email):
		return invalidField("password", "the password must not be your e-mail address")
	case commonPassword(pw, email):
		return invalidField("password", "this password is too common or has appeared in a data breach: choose another one")
	}
	return nil
}

// CheckNewPassword checks a new password against the policy (email: the
// account's, which the password must not be), for a form that refuses
// something else as well. Errors: invalid (field password).
func CheckNewPassword(pw, email string) error { return checkPasswordPolicy(pw, email) }
