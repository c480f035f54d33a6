// Package config reads Reciproca's configuration from the environment into
// one validated struct. Nothing else in the program reads the environment.
package config

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is everything the program can be told from outside.
type Config struct {
	// Env is "development", "test" or "production". Development enables the
	// demo-accounts page and the dev mail page.
	Env string
	// Addr is the listen address, built from PORT (and HOST).
	Addr string
	// BaseURL is where users reach the app; used in mails and redirects.
	BaseURL string
	// DatabaseURL is a lib/pq connection string: serve and worker connect
	// with it, as the restricted role reciproca_app.
	DatabaseURL string
	// MigrateDatabaseURL connects as the schema's owner, for `migrate`
	// (MIGRATE_DATABASE_URL; default DatabaseURL).
	MigrateDatabaseURL string
	// DBMaxConns bounds the pool.
	DBMaxConns int
	// LogLevel is debug, info, warn or error.
	LogLevel string

	// StripeSecretKey and StripeAPIBase reach Stripe or stripe-mock.
	StripeSecretKey     string
	StripeAPIBase       string
	StripeWebhookSecret string
	// StripeConnectWebhookSecret signs the Connect endpoint's events
	// (/webhooks/stripe/connect): Stripe gives that endpoint its own secret.
	StripeConnectWebhookSecret string

	ShutdownTimeout time.Duration

	// SMTPURL is the server mail leaves through (see mail.NewSMTP); only
	// the worker sends. MailFrom is the sender of every mail.
	SMTPURL  string
	MailFrom string
	// RunWorker makes serve also run the background worker (internal/worker)
	// in its own process: the default outside production, so that
	// `make run` stays one command. In production run `reciproca worker`.
	RunWorker bool

	// TrustedProxies (TRUSTED_PROXIES: addresses or CIDR ranges, separated
	// by commas or spaces) are the reverse proxies whose X-Forwarded-For
	// is believed. A request from any other peer — a private address
	// included — is attributed to the peer itself, so a client cannot pick
	// the address its sign-in failures are counted against.
	TrustedProxies []*net.IPNet

	// MetricsToken (METRICS_TOKEN) is the bearer token /metrics asks
	// for; required in production, where /metrics must not be public.
	MetricsToken string

	// Auth configures sign-in (see internal/identity).
	Auth Auth

	// Ledger configures the ledger's audit log (see internal/ledger).
	Ledger Ledger

	// Fund configures the inclusion fund (see internal/fund).
	Fund Fund

	// Funding configures company top-ups (see internal/funding); zero
	// values take the defaults.
	Funding Funding
}

// Fund is the inclusion fund's configuration.
type Fund struct {
	// VaultKey (FUND_VAULT_KEY: 32 random bytes, base64) wraps each
	// beneficiary's identity key; required in production, a fixed
	// development key otherwise.
	VaultKey string
	// Retention (FUND_RETENTION, default 17520h = 2 years) is how long
	// after a case closes its beneficiary's identity key is erased.
	Retention time.Duration
}

// Funding is what the operator sets about company top-ups.
type Funding struct {
	// ConfirmAboveCents (FUNDING_CONFIRM_ABOVE_CENTS, default 1000000, i.e.
	// €10,000): a bank receipt above it counts only once a second platform
	// admin confirms it.
	ConfirmAboveCents int64
	// IBAN (PLATFORM_IBAN) is the platform's account companies transfer to.
	IBAN string
	// AccountHolder (PLATFORM_ACCOUNT_HOLDER) and CUC (PLATFORM_CUC, the
	// CBI company code) name that account in the SEPA files that pay
	// providers without Stripe; demo values outside production.
	AccountHolder, CUC string
}

// Ledger is the audit log's configuration.
type Ledger struct {
	// SigningKey signs the log's checkpoints: a golang.org/x/mod/sumdb/note
	// private key (LEDGER_SIGNING_KEY, `reciproca ledger keygen`); required
	// in production, a fixed development key otherwise.
	SigningKey string
	// RootsFile is where each day's signed checkpoint is appended
	// (LEDGER_ROOTS_FILE); empty: only the log line and the database.
	RootsFile string
	// MaxSealLag is the sealing backlog verify accepts (LEDGER_SEAL_MAX_LAG).
	MaxSealLag time.Duration
}

// DevLedgerKey signs development and test checkpoints. It is public, so
// such a checkpoint proves nothing: production sets its own.
const DevLedgerKey = "PRIVATE+KEY+reciproca-dev-ledger+efcc3aaa+AaI+AQE3+Vnl1YOBeBe9hPn6BvLBhyWWXM0ot6eAqt1F"

// Auth is the sign-in configuration. Keys are PEM text (PKCS#8 Ed25519
// private key to sign; PKIX public keys of earlier signing keys to keep
// verifying during a rotation).
type Auth struct {
	JWTSigningKey string        // JWT_SIGNING_KEY; required in production
	JWTVerifyKeys string        // JWT_VERIFY_KEYS: extra public keys, PEM blocks one after another
	TOTPKey       string        // TOTP_ENCRYPTION_KEY: 32 bytes, base64; required in production
	Issuer        string        // JWT_ISSUER, default BASE_URL
	Audience      string        // JWT_AUDIENCE, default reciproca-api
	AccessTTL     time.Duration // ACCESS_TOKEN_TTL, default 15m
	RefreshTTL    time.Duration // REFRESH_TOKEN_TTL, default 720h
	SessionTTL    time.Duration // SESSION_TTL (browser), default 12h
	Argon2Memory  uint32        // ARGON2_MEMORY_KIB, default 65536 (64 MiB)
	Argon2Time    uint32        // ARGON2_TIME, default 2
	Argon2Threads uint8         // ARGON2_THREADS, default 2
	MaxFailures   int           // LOGIN_MAX_FAILURES per e-mail before lockout, default 5
	LockoutPeriod time.Duration // LOGIN_LOCKOUT, default 15m
	// INVITATIONS_PER_MINUTE per person (a CSV file counts once), default
	// 20; INVITATIONS_PER_DAY per organisation (a CSV counts each row),
	// default 500.
	InvitesPerMinute int
	InvitesPerDay    int
	SecureCookies    bool // true when BASE_URL is https
}

// Development reports whether development-only pages are on.
func (c Config) Development() bool { return c.Env == "development" }

// FromEnv reads the configuration from the environment and validates it.
func FromEnv() (Config, error) { return FromLookup(os.LookupEnv) }

// FromLookup reads the configuration through lookup; tests pass a map.
func FromLookup(lookup func(string) (string, bool)) (Config, error) {
	get := func(key, def string) string {
		if v, ok := lookup(key); ok && v != "" {
			return v
		}
		return def
	}
	var errs []string
	atoi := func(key, def string) int {
		n, err := strconv.Atoi(get(key, def))
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s must be an integer", key))
		}
		return n
	}
	port := atoi("PORT", "8080")
	c := Config{
		Env:                        get("APP_ENV", "development"),
		Addr:                       fmt.Sprintf("%s:%d", get("HOST", ""), port),
		DatabaseURL:                get("DATABASE_URL", ""),
		DBMaxConns:                 atoi("DB_MAX_CONNS", "20"),
		LogLevel:                   get("LOG_LEVEL", "info"),
		StripeSecretKey:            get("STRIPE_SECRET_KEY", "sk_test_123"),
		StripeAPIBase:              get("STRIPE_API_BASE", "http://127.0.0.1:12111"),
		StripeWebhookSecret:        get("STRIPE_WEBHOOK_SECRET", "whsec_dev"),
		StripeConnectWebhookSecret: get("STRIPE_CONNECT_WEBHOOK_SECRET", "whsec_dev_connect"),
		MetricsToken:               get("METRICS_TOKEN", ""),
	}
	c.MigrateDatabaseURL = get("MIGRATE_DATABASE_URL", c.DatabaseURL)
	for _, f := range strings.FieldsFunc(get("TRUSTED_PROXIES", ""), func(r rune) bool { return r == ',' || r == ' ' }) {
		if !strings.Contains(f, "/") {
			if ip := net.ParseIP(f); ip != nil && ip.To4() != nil {
				f += "/32"
			} else {
				f += "/128"
			}
		}
		_, n, err := net.ParseCIDR(f)
		if err != nil {
			errs = append(errs, fmt.Sprintf("TRUSTED_PROXIES: %q is not an address or CIDR range", f))
			continue
		}
		c.TrustedProxies = append(c.TrustedProxies, n)
	}
	c.BaseURL = strings.TrimRight(get("BASE_URL", fmt.Sprintf("http://localhost:%d", port)), "/")
	production := c.Env == "production"
	c.SMTPURL = get("SMTP_URL", map[bool]string{false: "smtp://127.0.0.1:1025", true: ""}[production])
	host := "localhost"
	if u, err := url.Parse(c.BaseURL); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	c.MailFrom = get("MAIL_FROM", "Reciproca <no-reply@"+host+">")
	switch get("RUN_WORKER", strconv.FormatBool(!production)) {
	case "true", "1":
		c.RunWorker = true
	case "false", "0":
	default:
		errs = append(errs, "RUN_WORKER must be true or false")
	}
	d, err := time.ParseDuration(get("SHUTDOWN_TIMEOUT", "15s"))
	if err != nil {
		errs = append(errs, "SHUTDOWN_TIMEOUT must be a duration such as 15s")
	}
	c.ShutdownTimeout = d
	dur := func(key, def string) time.Duration {
		d, err := time.ParseDuration(get(key, def))
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Sprintf("%s must be a positive duration such as %s", key, def))
		}
		return d
	}
	c.Auth = Auth{
		JWTSigningKey:    get("JWT_SIGNING_KEY", ""),
		JWTVerifyKeys:    get("JWT_VERIFY_KEYS", ""),
		TOTPKey:          get("TOTP_ENCRYPTION_KEY", ""),
		Issuer:           get("JWT_ISSUER", c.BaseURL),
		Audience:         get("JWT_AUDIENCE", "reciproca-api"),
		AccessTTL:        dur("ACCESS_TOKEN_TTL", "15m"),
		RefreshTTL:       dur("REFRESH_TOKEN_TTL", "720h"),
		SessionTTL:       dur("SESSION_TTL", "12h"),
		Argon2Memory:     uint32(atoi("ARGON2_MEMORY_KIB", "65536")),
		Argon2Time:       uint32(atoi("ARGON2_TIME", "2")),
		Argon2Threads:    uint8(atoi("ARGON2_THREADS", "2")),
		MaxFailures:      atoi("LOGIN_MAX_FAILURES", "5"),
		LockoutPeriod:    dur("LOGIN_LOCKOUT", "15m"),
		InvitesPerMinute: atoi("INVITATIONS_PER_MINUTE", "20"),
		InvitesPerDay:    atoi("INVITATIONS_PER_DAY", "500"),
		SecureCookies:    strings.HasPrefix(c.BaseURL, "https://"),
	}
	c.Ledger = Ledger{
		SigningKey: get("LEDGER_SIGNING_KEY", map[bool]string{false: DevLedgerKey, true: ""}[production]),
		RootsFile:  get("LEDGER_ROOTS_FILE", ""),
		MaxSealLag: dur("LEDGER_SEAL_MAX_LAG", "15m"),
	}
	c.Fund = Fund{VaultKey: get("FUND_VAULT_KEY", ""), Retention: dur("FUND_RETENTION", "17520h")}
	c.Funding = Funding{ConfirmAboveCents: int64(atoi("FUNDING_CONFIRM_ABOVE_CENTS", "1000000")), IBAN: get("PLATFORM_IBAN", ""),
		AccountHolder: get("PLATFORM_ACCOUNT_HOLDER", ""), CUC: get("PLATFORM_CUC", "")}
	if len(errs) == 0 {
		if err := c.Validate(); err != nil {
			return c, err
		}
		return c, nil
	}
	return c, fmt.Errorf("config: %s", strings.Join(errs, "; "))
}

// Validate checks the values that the program cannot run without.
func (c Config) Validate() error {
	var errs []string
	switch c.Env {
	case "development", "test", "production":
	default:
		errs = append(errs, "APP_ENV must be development, test or production")
	}
	if c.DatabaseURL == "" {
		errs = append(errs, "DATABASE_URL is required")
	}
	if c.DBMaxConns < 1 {
		errs = append(errs, "DB_MAX_CONNS must be at least 1")
	}
	if u, err := url.Parse(c.BaseURL); err != nil || u.Scheme == "" || u.Host == "" {
		errs = append(errs, "BASE_URL must be an absolute URL")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, "LOG_LEVEL must be debug, info, warn or error")
	}
	if c.Env == "production" && strings.HasPrefix(c.StripeWebhookSecret, "whsec_dev") {
		errs = append(errs, "STRIPE_WEBHOOK_SECRET must be set in production")
	}
	if c.Env == "production" && strings.HasPrefix(c.StripeConnectWebhookSecret, "whsec_dev") {
		errs = append(errs, "STRIPE_CONNECT_WEBHOOK_SECRET must be set in production")
	}
	if c.Env == "production" && c.SMTPURL == "" {
		errs = append(errs, "SMTP_URL must be set in production (the mail relay)")
	}
	if c.Env == "production" && c.Auth.JWTSigningKey == "" {
		errs = append(errs, "JWT_SIGNING_KEY must be set in production (every app server must sign with the same key)")
	}
	if c.Env == "production" && (c.Ledger.SigningKey == "" || c.Ledger.SigningKey == DevLedgerKey) {
		errs = append(errs, "LEDGER_SIGNING_KEY must be set in production (`reciproca ledger keygen` prints one)")
	}
	if c.Env == "production" && c.Auth.TOTPKey == "" {
		errs = append(errs, "TOTP_ENCRYPTION_KEY must be set in production (32 random bytes, base64)")
	}
	if c.Env == "production" && c.Fund.VaultKey == "" {
		errs = append(errs, "FUND_VAULT_KEY must be set in production (32 random bytes, base64)")
	}
	if c.Env == "production" && len(c.MetricsToken) < 16 {
		errs = append(errs, "METRICS_TOKEN must be set in production, at least 16 characters (the bearer token /metrics asks for)")
	}
	if c.Env == "production" && !c.Auth.SecureCookies {
		errs = append(errs, "BASE_URL must be https in production")
	}
	if c.Auth.Argon2Memory != 0 && (c.Auth.Argon2Memory < 8*1024 || c.Auth.Argon2Time < 1 || c.Auth.Argon2Threads < 1) {
		errs = append(errs, "ARGON2_MEMORY_KIB must be at least 8192, ARGON2_TIME and ARGON2_THREADS at least 1")
	}
	if len(errs) > 0 {
		return fmt.Errorf("config: %s", strings.Join(errs, "; "))
	}
	return nil
}
