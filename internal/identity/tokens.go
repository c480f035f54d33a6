package identity

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
)

// Leeway tolerates clock skew between app servers when checking exp, nbf
// and iat.
const Leeway = 30 * time.Second

// KeySet signs access tokens with one Ed25519 key and verifies with that
// key and any earlier ones still configured, each found by its key id
// (kid, derived from the public key). Rotation: deploy the new signing key
// with the old public key in JWT_VERIFY_KEYS; drop the old one once every
// token it signed has expired (ACCESS_TOKEN_TTL).
type KeySet struct {
	signKID string
	sign    ed25519.PrivateKey
	verify  map[string]ed25519.PublicKey
}

// KeyID is the key id of pub: the first 16 hex digits of its SHA-256.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// NewKeySet builds a key set from a signing key and extra verification keys.
func NewKeySet(sign ed25519.PrivateKey, verify ...ed25519.PublicKey) *KeySet {
	pub := sign.Public().(ed25519.PublicKey)
	ks := &KeySet{signKID: KeyID(pub), sign: sign, verify: map[string]ed25519.PublicKey{KeyID(pub): pub}}
	for _, v := range verify {
		ks.verify[KeyID(v)] = v
	}
	return ks
}

// GenerateKey returns a fresh Ed25519 signing key.
func GenerateKey() ed25519.PrivateKey {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	return priv
}

// ParseKeySet reads a PKCS#8 PEM private key and zero or more PKIX PEM
// public keys (concatenated).
func ParseKeySet(signPEM, verifyPEM string) (*KeySet, error) {
	block, _ := pem.Decode([]byte(signPEM))
	if block == nil {
		return nil, errors.New("JWT_SIGNING_KEY: no PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("JWT_SIGNING_KEY: %w", err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, errors.New("JWT_SIGNING_KEY: not an Ed25519 key")
	}
	var pubs []ed25519.PublicKey
	rest := []byte(verifyPEM)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		k, err := x509.ParsePKIXPublicKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("JWT_VERIFY_KEYS: %w", err)
		}
		pub, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, errors.New("JWT_VERIFY_KEYS: not an Ed25519 key")
		}
		pubs = append(pubs, pub)
	}
	return NewKeySet(priv, pubs...), nil
}

// PublicKey returns the current signing key's public half.
func (ks *KeySet) PublicKey() ed25519.PublicKey { return ks.sign.Public().(ed25519.PublicKey) }

// accessClaims is the payload of an access token. The caller's organisation
// and roles are in the token so the API needs no database read to
// authorize. Epoch is the user's revocation epoch when it was signed:
// ending the user's sign-ins (a role change, deactivation, a new password,
// a sign-out) raises the epoch, and the token stops being accepted within
// seconds (see revocations), not at its expiry.
type accessClaims struct {
	jwt.RegisteredClaims
	Org   uuid.UUID    `json:"org"`
	Kind  auth.OrgKind `json:"kind"`
	Email string       `json:"email"`
	Name  string       `json:"name"`
	Roles []auth.Role  `json:"roles"`
	Epoch int          `json:"ep"`
}

// tokenConfig is what signing and checking access tokens depends on.
type tokenConfig struct {
	keys     *KeySet
	issuer   string
	audience string
	ttl      time.Duration
}

// issue signs an access token for p at revocation epoch epoch, valid from
// now for ttl.
func (tc tokenConfig) issue(p *auth.Principal, epoch int, now time.Time) (string, time.Time, error) {
	exp := now.Add(tc.ttl)
	claims := accessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    tc.issuer,
			Subject:   p.UserID.String(),
			Audience:  jwt.ClaimStrings{tc.audience},
			ExpiresAt: jwt.NewNumericDate(exp),
			NotBefore: jwt.NewNumericDate(now),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        randomToken()[:22],
		},
		Org: p.OrgID, Kind: p.OrgKind, Email: p.Email, Name: p.Name, Roles: p.Roles, Epoch: epoch,
	}
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	t.Header["kid"] = tc.keys.signKID
	s, err := t.SignedString(tc.keys.sign)
	return s, exp, err
}

// verify checks an access token: EdDSA only, a known kid, issuer,
// audience, exp (required), nbf and iat with Leeway. Any failure is the
// same unauthorized error; the reason goes to the log via Err. It returns
// the caller and the token's revocation epoch, which the caller checks.
func (tc tokenConfig) verify(token string, now time.Time) (*auth.Principal, int, error) {
	p, epoch, _, err := tc.verifyUntil(token, now)
	return p, epoch, err
}

// verifyUntil is verify, also returning the token's expiry.
func (tc tokenConfig) verifyUntil(token string, now time.Time) (*auth.Principal, int, time.Time, error) {
	var claims accessClaims
	_, err := jwt.ParseWithClaims(token, &claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		key, ok := tc.keys.verify[kid]
		if !ok {
			return nil, fmt.Errorf("unknown key id %q", kid)
		}
		return key, nil
	},
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithIssuer(tc.issuer),
		jwt.WithAudience(tc.audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(Leeway),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
	if err != nil {
		return nil, 0, time.Time{}, &apperr.Error{Code: apperr.Unauthorized, Message: "invalid or expired access token", Err: err}
	}
	uid, err := uuid.Parse(claims.Subject)
	if err != nil || claims.Org == uuid.Nil || len(claims.Roles) == 0 {
		return nil, 0, time.Time{}, errBadAccessToken
	}
	return &auth.Principal{UserID: uid, OrgID: claims.Org, OrgKind: claims.Kind, Email: claims.Email,
		Name: claims.Name, Roles: claims.Roles}, claims.Epoch, claims.ExpiresAt.Time, nil
}

// errBadAccessToken is the one answer to a token that does not hold.
var errBadAccessToken = apperr.New(apperr.Unauthorized, "invalid or expired access token")

// randomToken returns 256 random bits, base64url-encoded: the secret part
// of refresh tokens, sessions and one-time links.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashToken is how secret tokens are stored: they are high-entropy, so a
// plain SHA-256 suffices (no salt or slow hash needed).
func hashToken(tok string) []byte {
	sum := sha256.Sum256([]byte(tok))
	return sum[:]
}
