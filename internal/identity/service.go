// Package identity owns organisations, users and their roles, sign-in,
// sessions and API tokens, invitations, second factors and the audit log.
//
// Who a caller is travels as an auth.Principal; identity decides which
// credentials make one.
package identity

import (
	"encoding/base64"
	"errors"
	"log/slog"
	"runtime"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/config"
	"github.com/reciproca/reciproca/internal/db"
)

// Config is what the identity service is told by the program.
type Config struct {
	Keys          *KeySet
	Issuer        string
	Audience      string
	AccessTTL     time.Duration
	RefreshTTL    time.Duration
	SessionTTL    time.Duration
	Argon2        Argon2Params
	MaxFailures   int           // per e-mail address, before lockout
	MaxIPFailures int           // per client address, before lockout
	LockoutPeriod time.Duration // also the window failures are counted in
	BaseURL       string
	SecureCookies bool
	Dev           bool
	// TOTPKey (32 bytes) seals second-factor secrets at rest.
	TOTPKey []byte
	// RevocationCacheTTL is how long an app server trusts what it read of
	// a user's revocation epoch when it does not listen for revocation
	// notices (see revocations): then the most an ended sign-in's access
	// token keeps working. At most 5 s.
	RevocationCacheTTL time.Duration
	// InvitesPerMinute (per person) and InvitesPerDay (per organisation)
	// throttle invitations (see takeInvitationQuota).
	InvitesPerMinute int
	InvitesPerDay    int
}

// ConfigFrom turns the program configuration into the service's. Without
// JWT_SIGNING_KEY (allowed only in development and test: config.Validate
// refuses production) a key is generated at start: API access tokens then
// do not survive a restart (clients refresh: refresh tokens and browser
// sessions are in the database and do), and several app servers would not
// accept each other's tokens, which is why production must configure one.
func ConfigFrom(c config.Config) (Config, error) {
	a := c.Auth
	out := Config{
		Issuer: a.Issuer, Audience: a.Audience, AccessTTL: a.AccessTTL, RefreshTTL: a.RefreshTTL,
		SessionTTL: a.SessionTTL, MaxFailures: a.MaxFailures, LockoutPeriod: a.LockoutPeriod,
		InvitesPerMinute: a.InvitesPerMinute, InvitesPerDay: a.InvitesPerDay,
		Argon2:  Argon2Params{MemoryKiB: a.Argon2Memory, Time: a.Argon2Time, Threads: a.Argon2Threads},
		BaseURL: c.BaseURL, SecureCookies: strings.HasPrefix(c.BaseURL, "https://"), Dev: c.Development(),
	}
	if a.TOTPKey != "" {
		k, err := base64.StdEncoding.DecodeString(a.TOTPKey)
		if err != nil || len(k) != 32 {
			return out, errors.New("TOTP_ENCRYPTION_KEY must be 32 bytes, base64-encoded")
		}
		out.TOTPKey = k
	} else if c.Env == "production" {
		return out, errors.New("TOTP_ENCRYPTION_KEY must be set in production")
	}
	if a.JWTSigningKey != "" {
		ks, err := ParseKeySet(a.JWTSigningKey, a.JWTVerifyKeys)
		if err != nil {
			return out, err
		}
		out.Keys = ks
	} else if c.Env == "production" {
		return out, errors.New("JWT_SIGNING_KEY must be set in production")
	} else {
		slog.Warn("JWT_SIGNING_KEY not set: signing access tokens with a key generated at start (development/test only)")
	}
	return out, nil
}

// withDefaults fills zero values, so tests can pass a partial Config.
func (c Config) withDefaults() Config {
	if c.Keys == nil {
		c.Keys = NewKeySet(GenerateKey())
	}
	if c.TOTPKey == nil {
		c.TOTPKey = DevTOTPKey
	}
	if c.Issuer == "" {
		c.Issuer = c.BaseURL
	}
	if c.Audience == "" {
		c.Audience = "reciproca-api"
	}
	if c.AccessTTL == 0 {
		c.AccessTTL = 15 * time.Minute
	}
	if c.RefreshTTL == 0 {
		c.RefreshTTL = 30 * 24 * time.Hour
	}
	if c.SessionTTL == 0 {
		c.SessionTTL = 12 * time.Hour
	}
	if c.Argon2.MemoryKiB == 0 {
		c.Argon2 = DefaultArgon2
	}
	if c.MaxFailures == 0 {
		c.MaxFailures = 5
	}
	if c.MaxIPFailures == 0 {
		c.MaxIPFailures = 50
	}
	if c.LockoutPeriod == 0 {
		c.LockoutPeriod = 15 * time.Minute
	}
	if c.InvitesPerMinute <= 0 {
		c.InvitesPerMinute = 20
	}
	if c.InvitesPerDay <= 0 {
		c.InvitesPerDay = 500
	}
	if c.RevocationCacheTTL <= 0 || c.RevocationCacheTTL > 5*time.Second {
		c.RevocationCacheTTL = 4 * time.Second
	}
	return c
}

// Service is sign-in, sessions and the management of users.
type Service struct {
	db  *sqlx.DB
	cfg Config
	tok tokenConfig
	// dummyHash is verified against when the e-mail is unknown, so an
	// unknown address costs the same time as a wrong password.
	dummyHash string
	// hashing bounds concurrent argon2id computations: each takes
	// Argon2.MemoryKiB of memory, so a burst of sign-ins must queue rather
	// than exhaust the server's memory.
	hashing chan struct{}
	// revoked checks access tokens against their user's revocation epoch.
	revoked *revocations
	// stmts are the statements every API request may run, prepared.
	stmts *db.Statements
	// verified remembers the access tokens whose signature was checked.
	verified *verifiedTokens
	// employees records HR's data of invited employees (the plans
	// domain); nil: the invitation file's HR columns are refused.
	employees EmployeeRecorder
}

// New returns the identity service.
func New(dbx *sqlx.DB, cfg Config) *Service {
	cfg = cfg.withDefaults()
	return &Service{
		db:        dbx,
		cfg:       cfg,
		tok:       tokenConfig{keys: cfg.Keys, issuer: cfg.Issuer, audience: cfg.Audience, ttl: cfg.AccessTTL},
		dummyHash: hashPassword(cfg.Argon2, randomToken()),
		hashing:   make(chan struct{}, max(2, runtime.GOMAXPROCS(0))),
		revoked:   newRevocations(cfg.RevocationCacheTTL),
		stmts:     db.NewStatements(dbx),
		verified:  newVerifiedTokens(),
	}
}

// Config returns the effective configuration.
func (s *Service) Config() Config { return s.cfg }

// HashPassword returns the stored form of pw with params p (for seeds and
// tests that write users directly).
func HashPassword(p Argon2Params, pw string) string { return hashPassword(p, pw) }
