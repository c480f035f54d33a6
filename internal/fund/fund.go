// Package fund is the inclusion fund: envelopes by theme, direct
// donations, beneficiaries kept pseudonymous behind an encrypted identity
// vault, cases with their needs assessment and plan, micro-interventions
// approved by four eyes, payment batches in the CBI variant of pain.001,
// outcomes and the indicators report.
//
// Money never lives here: the pool (fund:{fund}:pool), the envelopes
// (fund:{fund}:envelope:{theme}) and the commitments
// (fund:{fund}:committed:{intervention}) are ledger accounts, all keeping
// lots, so a contributor lot moves along from the pool to an envelope, to
// a commitment and out with a payment, and every disbursement knows whose
// money paid for it. The tables here record what the fund decided and the
// ledger transaction that carried it out.
//
// A fund is an organisation of kind fund; its staff (fund managers, case
// workers, approvers) act on it as the principal's organisation, so
// another fund's objects are not found.
package fund

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/config"
	"github.com/reciproca/reciproca/internal/ledger"
)

// Organisations is what the fund needs from identity: the kind of an
// organisation (donations go only to funds) and the platform's audit log.
type Organisations interface {
	OrgKind(ctx context.Context, orgID uuid.UUID) (auth.OrgKind, error)
	RecordEvent(ctx context.Context, q sqlx.ExecerContext, event string, actor *auth.Principal, orgID uuid.UUID, details map[string]any) error
}

// Config is the fund's configuration.
type Config struct {
	// VaultKey (32 bytes) wraps every beneficiary's own key; without it no
	// identity can be read.
	VaultKey []byte
	// Retention is how long after a case closes its beneficiary's key is
	// erased (when no other case of theirs is open).
	Retention time.Duration
	// BaseURL is where the app is reached, for links in mails.
	BaseURL string
}

// Service is the fund's use cases.
type Service struct {
	db   *sqlx.DB
	cfg  Config
	orgs Organisations
	now  func() time.Time
}

// New returns the fund service.
func New(dbx *sqlx.DB, cfg Config, orgs Organisations) *Service {
	return &Service{db: dbx, cfg: cfg, orgs: orgs, now: time.Now}
}

var zero int64

// Ledger account paths of a fund.
func poolPath(fund uuid.UUID) string { return "fund:" + fund.String() + ":pool" }

func envelopePath(fund uuid.UUID, theme Theme) string {
	return "fund:" + fund.String() + ":envelope:" + string(theme)
}

// PoolShards is how many balance rows the pool has: every redemption
// credits it, so it is a hot account (docs/ledger.md).
const PoolShards = 16

// PoolSpec is the ledger account of a fund's pool. Whoever credits the
// pool first (a redemption, a donation, the fund itself) creates it with
// this spec, so the creations agree.
func PoolSpec(fund uuid.UUID) ledger.AccountSpec {
	return ledger.AccountSpec{Path: poolPath(fund), Kind: ledger.Liability, Floor: &zero, Lots: true, Shards: PoolShards}
}

// fundAccount is an envelope's or a commitment's spec: lots, so the
// contributor lots move along.
func fundAccount(path string) ledger.AccountSpec {
	return ledger.AccountSpec{Path: path, Kind: ledger.Liability, Floor: &zero, Lots: true, Shards: 1}
}

// ensureFund makes org a fund the first time its staff use it: the fund
// row and the pool account. Errors: forbidden (not a fund's organisation).
func (s *Service) ensureFund(ctx context.Context, q sqlx.ExtContext, org uuid.UUID) error {
	if _, err := q.ExecContext(ctx, `INSERT INTO funds (organisation_id) VALUES ($1) ON CONFLICT DO NOTHING`, org); err != nil {
		return apperr.Wrap(err, "creating fund")
	}
	_, err := ledger.CreateAccount(ctx, q, PoolSpec(org))
	return err
}

// staff checks that p works for a fund with one of roles, and returns the
// fund. Errors: forbidden.
func staff(p *auth.Principal, roles ...auth.Role) (uuid.UUID, error) {
	if p == nil || p.OrgKind != auth.OrgFund || !p.Has(roles...) {
		return uuid.Nil, apperr.New(apperr.Forbidden, "only the fund's staff may do this")
	}
	return p.OrgID, nil
}

// requireReason trims a decision's reason and refuses an empty one or one
// longer than max characters, naming the field, with why it is needed.
func requireReason(reason string, max int, why string) (string, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || utf8.RuneCountInString(reason) > max {
		return "", invalidField("reason", "%s", why)
	}
	return reason, nil
}

func invalidField(field, format string, args ...any) *apperr.Error {
	return apperr.New(apperr.Invalid, format, args...).With("field", field)
}

// problem is the invalid error for field when bad, else nil: a form's
// checks, joined by apperr.AllInvalid, name every field at fault at once.
func problem(bad bool, field, format string, args ...any) error {
	if !bad {
		return nil
	}
	return invalidField(field, format, args...)
}

// italianTime is the zone years and dates are judged in.
var italianTime = func() *time.Location {
	l, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		return time.FixedZone("CET", 3600)
	}
	return l
}()

// yearBounds is the calendar year (Italian time) around t.
func yearBounds(t time.Time) (time.Time, time.Time) {
	y := t.In(italianTime).Year()
	return time.Date(y, 1, 1, 0, 0, 0, 0, italianTime), time.Date(y+1, 1, 1, 0, 0, 0, 0, italianTime)
}

// newKey is a fresh ledger idempotency key for an event that has its own
// HTTP idempotency (the HTTP layer replays the answer; the ledger key only
// has to be unique).
func newKey(kind string) string { return fmt.Sprintf("fund.%s:%s", kind, uuid.NewString()) }

// DevVaultKey is the vault's master key in development and test. It is
// public, so it protects nothing: production sets FUND_VAULT_KEY.
var DevVaultKey = func() []byte { k := sha256.Sum256([]byte("reciproca: development-only fund vault key")); return k[:] }()

// ConfigFrom reads the fund's part of the application configuration.
func ConfigFrom(c config.Config) (Config, error) {
	out := Config{VaultKey: DevVaultKey, Retention: c.Fund.Retention, BaseURL: c.BaseURL}
	if c.Fund.VaultKey != "" {
		k, err := base64.StdEncoding.DecodeString(c.Fund.VaultKey)
		if err != nil || len(k) != 32 {
			return Config{}, fmt.Errorf("FUND_VAULT_KEY must be 32 bytes, base64")
		}
		out.VaultKey = k
	}
	if out.Retention <= 0 {
		out.Retention = 2 * 365 * 24 * time.Hour
	}
	return out, nil
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
