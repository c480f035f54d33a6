package identity_test

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/reciproca/reciproca/internal/app"
	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db/dbtest"
	"github.com/reciproca/reciproca/internal/identity"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
)

const (
	testIssuer   = "https://reciproca.test"
	testAudience = "reciproca-api"
)

func privPEM(t *testing.T, k ed25519.PrivateKey) string {
	b, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: b}))
}

func pubPEM(t *testing.T, k ed25519.PublicKey) string {
	b, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: b}))
}

// startWithKeys starts the app signing with sign and also accepting tokens
// of the verify keys (a rotation in progress).
func startWithKeys(t *testing.T, sign ed25519.PrivateKey, verify ...ed25519.PublicKey) *app.App {
	cfg := apptest.Config(dbtest.New(t))
	cfg.Auth.JWTSigningKey = privPEM(t, sign)
	for _, v := range verify {
		cfg.Auth.JWTVerifyKeys += pubPEM(t, v)
	}
	cfg.Auth.Issuer, cfg.Auth.Audience = testIssuer, testAudience
	return apptest.StartWith(t, cfg)
}

// claims are valid claims for u; tests then spoil one thing.
func claims(u *identitytest.User, now time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"iss": testIssuer, "aud": []string{testAudience}, "sub": u.ID.String(),
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(), "jti": "x",
		"org": u.Org.ID.String(), "kind": string(u.Org.Kind), "email": u.Email, "name": u.Name,
		"roles": []string{string(u.Roles[0])},
	}
}

func sign(t *testing.T, key ed25519.PrivateKey, c jwt.MapClaims) string {
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	tok.Header["kid"] = identity.KeyID(key.Public().(ed25519.PublicKey))
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Forged, stale and misdirected access tokens are all refused with 401;
// a well-formed token signed by the configured key, or by an older key
// still listed for verification, is accepted.
func TestAccessTokenAttacksAreRefused(t *testing.T) {
	t.Parallel()
	key, oldKey, stranger := identity.GenerateKey(), identity.GenerateKey(), identity.GenerateKey()
	a := startWithKeys(t, key, oldKey.Public().(ed25519.PublicKey))
	k := identitytest.New(t, a.DB, a.Identity)
	u := k.As(auth.OrgCompany, auth.RoleEmployee)
	now := time.Now()
	pub := key.Public().(ed25519.PublicKey)

	with := func(change func(jwt.MapClaims)) jwt.MapClaims {
		c := claims(u, now)
		change(c)
		return c
	}
	none := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodNone, claims(u, now))
		tok.Header["kid"] = identity.KeyID(pub)
		s, err := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	hmacWithPublicKey := func(secret []byte) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims(u, now))
		tok.Header["kid"] = identity.KeyID(pub)
		s, err := tok.SignedString(secret)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// A real token whose payload is swapped for one granting more roles.
	tampered := func() string {
		parts := strings.Split(sign(t, key, claims(u, now)), ".")
		c := claims(u, now)
		c["roles"] = []string{"platform_admin"}
		raw, _ := json.Marshal(c)
		return parts[0] + "." + base64.RawURLEncoding.EncodeToString(raw) + "." + parts[2]
	}
	wrongKid := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims(u, now))
		tok.Header["kid"] = identity.KeyID(pub) // claims to be ours, signed by a stranger
		s, _ := tok.SignedString(stranger)
		return s
	}
	cases := map[string]string{
		"expired":                     sign(t, key, with(func(c jwt.MapClaims) { c["exp"] = now.Add(-2 * time.Minute).Unix() })),
		"no expiry":                   sign(t, key, with(func(c jwt.MapClaims) { delete(c, "exp") })),
		"not yet valid":               sign(t, key, with(func(c jwt.MapClaims) { c["nbf"] = now.Add(5 * time.Minute).Unix() })),
		"issued in the future":        sign(t, key, with(func(c jwt.MapClaims) { c["iat"] = now.Add(5 * time.Minute).Unix() })),
		"wrong audience":              sign(t, key, with(func(c jwt.MapClaims) { c["aud"] = []string{"another-api"} })),
		"wrong issuer":                sign(t, key, with(func(c jwt.MapClaims) { c["iss"] = "https://evil.example" })),
		"alg none":                    none(),
		"HMAC with the public key":    hmacWithPublicKey(pub),
		"HMAC with the public PEM":    hmacWithPublicKey([]byte(pubPEM(t, pub))),
		"tampered payload":            tampered(),
		"unknown key id":              sign(t, stranger, claims(u, now)),
		"right kid, stranger's key":   wrongKid(),
		"garbage":                     "not.a.token",
		"empty signature":             strings.Join(strings.Split(sign(t, key, claims(u, now)), ".")[:2], ".") + ".",
		"signature of another token":  strings.Join(strings.Split(sign(t, key, claims(u, now)), ".")[:2], ".") + "." + strings.Split(sign(t, key, with(func(c jwt.MapClaims) { c["jti"] = "y" })), ".")[2],
		"base64 padding in signature": sign(t, key, claims(u, now)) + base64.StdEncoding.EncodeToString([]byte{0}),
	}
	for name, tok := range cases {
		st, body := call(t, a, "GET", "/me", tok, nil)
		if st != 401 || body["code"] != "unauthorized" {
			t.Errorf("%s: GET /me = %d %v, want 401 unauthorized", name, st, body)
		}
	}
	for name, tok := range map[string]string{
		"current key":           sign(t, key, claims(u, now)),
		"previous key":          sign(t, oldKey, claims(u, now)),
		"within the leeway":     sign(t, key, with(func(c jwt.MapClaims) { c["exp"] = now.Add(-10 * time.Second).Unix() })),
		"issued by the service": k.Token(u),
	} {
		if st, body := call(t, a, "GET", "/me", tok, nil); st != 200 || body["email"] != u.Email {
			t.Errorf("%s: GET /me = %d %v, want 200", name, st, body)
		}
	}
	// The Authorization header must be a Bearer token.
	for _, h := range []string{"Basic dXNlcjpwYXNz", "Bearer", "Token " + k.Token(u)} {
		st, _ := callHeader(t, a, "GET", "/me", h)
		if st != 401 {
			t.Errorf("Authorization %q: %d, want 401", h, st)
		}
	}
}
