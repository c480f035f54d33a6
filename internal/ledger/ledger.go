// Package ledger is Reciproca's double-entry ledger: every euro that enters,
// moves or leaves the platform is a balanced, immutable transaction here,
// and every balance comes from here (docs/ledger.md).
//
// It is a library that domain packages call inside their own database
// transaction: every function takes a sqlx.ExtContext (or a Queryer for
// reads), so a funding top-up, a booking or a fund disbursement commits its
// own rows and its ledger transaction atomically. Passed a *sqlx.DB instead,
// a write is one autocommitted statement and is retried on deadlock.
//
// The write path is one PL/pgSQL call per write, sent as a single
// simple-protocol statement: one database round trip whatever the
// connection string says (lib/pq otherwise needs two round trips per
// parameterised statement unless binary_parameters=yes, which changes how
// []byte arguments are sent for the whole application). Posted
// transactions go through ledger_post_batch (sql/batch.sql): PostBatch
// writes many in one statement, a Batcher gathers concurrent callers' posts
// into such batches, and Post is a batch of one. Holds, captures, voids and
// reversals have their own functions (sql/holds.sql, sql/reverse.sql). The
// SQL lives in internal/ledger/sql, applied after the migrations.
//
// Conventions: amounts are int64 euro cents; balances are on the
// account's normal side (a wallet, a liability, grows with credits; the
// Stripe asset account grows with debits). Every write carries an
// idempotency key: the same key with the same request returns the original
// transaction (Result.Replayed), with a different request it is a conflict.
//
// Errors are *apperr.Error: invalid (malformed request), not_found
// (unknown account, hold, transaction or split policy), conflict (key
// reused for another request, hold already resolved, account frozen or
// closed), insufficient_funds (with account, available and required).
package ledger

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/db"
)

// MaxAmount bounds a single amount (10 billion euro), far below int64
// overflow in the split arithmetic.
const MaxAmount int64 = 1_000_000_000_000

// Kind is the accounting class of an account.
type Kind string

// The account kinds.
const (
	Asset     Kind = "asset"
	Liability Kind = "liability"
	Equity    Kind = "equity"
	Revenue   Kind = "revenue"
	Expense   Kind = "expense"
)

// NormalSide is the side on which an account's balance grows: debit for
// assets and expenses, credit for liabilities, equity and revenue.
func (k Kind) NormalSide() string {
	if k == Asset || k == Expense {
		return "debit"
	}
	return "credit"
}

// Account status values. Frozen and closed accounts take no new postings;
// holds already placed on them can still be captured or voided.
const (
	StatusOpen   = "open"
	StatusFrozen = "frozen"
	StatusClosed = "closed"
)

var (
	pathRe  = regexp.MustCompile(`^[a-z][a-z0-9_-]*(:[A-Za-z0-9_.-]+)*$`)
	assetRe = regexp.MustCompile(`^[A-Z][A-Z0-9_]{1,15}$`)
	kindRe  = regexp.MustCompile(`^[a-z][a-z0-9_.-]{0,63}$`)
	// a tax bucket as the catalogue names them (art51_c2_f_bis …)
	taxBucketRe = regexp.MustCompile(`^[a-z0-9_]{1,64}$`)
)

// AccountSpec describes an account to create.
type AccountSpec struct {
	// Path names the account, e.g. "employee:42:wallet", "fund:7:pool".
	Path string `json:"path"`
	// Asset defaults to EUR.
	Asset string `json:"asset"`
	Kind  Kind   `json:"kind"`
	// Floor is the minimum available balance (nil: none). Wallets, budgets,
	// payables and fund accounts have floor 0.
	Floor *int64 `json:"floor"`
	// Lots makes credits lots (expiry, categories, contributor) and debits
	// consume them FIFO by expiry. Only for credit-normal accounts.
	Lots bool `json:"lots"`
	// Shards > 1 makes a hot account: credits increment one of Shards
	// balance rows, debits lock them all. For the fund pool and the fees.
	Shards   int            `json:"shards"`
	Metadata map[string]any `json:"metadata"`
}

// Validate reports the first problem with s as an invalid error.
func (s *AccountSpec) Validate() error {
	if s.Asset == "" {
		s.Asset = "EUR"
	}
	if s.Shards == 0 {
		s.Shards = 1
	}
	switch {
	case !pathRe.MatchString(s.Path) || len(s.Path) > 200:
		return invalid("path", "account path %q must look like kind:id:name (letters, digits, _ . -)", s.Path)
	case !assetRe.MatchString(s.Asset):
		return invalid("asset", "asset %q must be an upper-case code such as EUR", s.Asset)
	case s.Kind != Asset && s.Kind != Liability && s.Kind != Equity && s.Kind != Revenue && s.Kind != Expense:
		return invalid("kind", "account kind %q is not one of asset, liability, equity, revenue, expense", s.Kind)
	case s.Lots && s.Kind.NormalSide() != "credit":
		return invalid("lots", "only credit-normal accounts (wallets, fund accounts) can keep lots")
	case s.Shards < 1 || s.Shards > 64:
		return invalid("shards", "shards must be between 1 and 64")
	}
	return nil
}

// Account is a ledger account.
type Account struct {
	ID         int64          `json:"id" db:"id"`
	Path       string         `json:"path" db:"path"`
	Asset      string         `json:"asset" db:"asset"`
	Kind       Kind           `json:"kind" db:"kind"`
	NormalSide string         `json:"normal_side" db:"normal_side"`
	Floor      *int64         `json:"floor,omitempty" db:"floor"`
	Lots       bool           `json:"lots" db:"lots"`
	Shards     int            `json:"shards" db:"shards"`
	Status     string         `json:"status" db:"status"`
	Metadata   map[string]any `json:"metadata" db:"-"`
	CreatedAt  time.Time      `json:"created_at" db:"created_at"`
}

// Posting moves Amount from one account to another: a debit of From and a
// credit of To.
type Posting struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Amount int64  `json:"amount"`
	// Category restricts which lots of From may pay (e.g. the offering's
	// category); empty: lots of any category.
	Category string `json:"category,omitempty"`
	// TaxBucket is the tax rule of Category as the caller knows it now
	// (the catalogue category's tax bucket, e.g. art51_c2_f_bis): recorded
	// on every lot consumption, since a category's bucket can change
	// later. Optional; only with a Category.
	TaxBucket string `json:"tax_bucket,omitempty"`
	// Lot describes the lot the credit creates when To keeps lots. Without
	// it the credit moves along the lots From gave (when From keeps lots
	// and this is its only posting), or becomes a plain lot.
	Lot *LotSpec `json:"lot,omitempty"`
}

// LotSpec describes a lot: a wallet credit (plan, allowed categories,
// expiry) or a fund contributor lot (which company, which redemption).
type LotSpec struct {
	ExpiresAt  *time.Time     `json:"expires_at,omitempty"`
	Categories []string       `json:"categories,omitempty"`
	Attrs      map[string]any `json:"attrs,omitempty"`
}

// Split pays Gross from one account three ways by a split policy: the
// provider's part, the fund's part (a contributor lot with FundAttrs and the
// policy version) and the platform fee. The parts sum to Gross exactly.
type Split struct {
	Policy    string         `json:"policy"`
	From      string         `json:"from"`
	Gross     int64          `json:"gross"`
	Category  string         `json:"category,omitempty"`
	TaxBucket string         `json:"tax_bucket,omitempty"` // as Posting.TaxBucket
	Provider  string         `json:"provider"`
	Fund      string         `json:"fund"`
	Fees      string         `json:"fees"`
	FundAttrs map[string]any `json:"fund_attrs,omitempty"`
}

// Request is a ledger transaction to write.
type Request struct {
	// Key is the idempotency key: one key, one transaction.
	Key string `json:"key"`
	// Kind names the business event (topup, allocation, redemption …).
	Kind      string `json:"kind,omitempty"`
	Reference string `json:"reference,omitempty"`
	// EffectiveAt is when the movement counts (default: now).
	EffectiveAt *time.Time     `json:"effective_at,omitempty"`
	Metadata    map[string]any `json:"metadata,omitempty"`
	Postings    []Posting      `json:"postings,omitempty"`
	Split       *Split         `json:"split,omitempty"`
}

// Validate reports the first problem with r as an invalid error.
func (r Request) Validate() error {
	if err := validateKey(r.Key); err != nil {
		return err
	}
	if r.Kind != "" && !kindRe.MatchString(r.Kind) {
		return invalid("kind", "transaction kind %q must be lower-case letters, digits, _ . -", r.Kind)
	}
	if strings.HasPrefix(r.Kind, "lot_expiry.") {
		return invalid("kind", "lot_expiry transactions are the expiry sweep's own")
	}
	if strings.HasPrefix(r.Kind, "hold_release.") {
		return invalid("kind", "hold_release transactions are written by Void and ExpireHolds")
	}
	if len(r.Postings) == 0 && r.Split == nil {
		return invalid("postings", "a transaction needs at least one posting or a split")
	}
	for i, p := range r.Postings {
		if err := p.validate(); err != nil {
			return err.(*apperr.Error).With("posting", i)
		}
	}
	if r.Split != nil {
		s := r.Split
		if s.Policy == "" || s.From == "" || s.Provider == "" || s.Fund == "" || s.Fees == "" {
			return invalid("split", "a split needs a policy, a source and the provider, fund and fee accounts")
		}
		if s.Gross <= 0 || s.Gross > MaxAmount {
			return invalid("split.gross", "the gross amount must be between 1 cent and 10 billion euro")
		}
	}
	return r.Split.validateTax()
}

// validateTax checks a split's tax bucket (a nil split has none).
func (s *Split) validateTax() error {
	if s == nil {
		return nil
	}
	return validateTaxBucket("split.tax_bucket", s.Category, s.TaxBucket)
}

func validateTaxBucket(field, category, bucket string) error {
	switch {
	case bucket == "":
		return nil
	case !taxBucketRe.MatchString(bucket):
		return invalid(field, "tax bucket %q must be lower-case letters, digits and _ (e.g. art51_c2_f_bis)", bucket)
	case category == "":
		return invalid(field, "a tax bucket is the tax rule of a category: give the category too")
	}
	return nil
}

func (p Posting) validate() error {
	switch {
	case p.From == "" || p.To == "":
		return invalid("postings", "a posting needs a source and a destination account")
	case p.From == p.To:
		return invalid("postings", "a posting cannot move money from %s to itself", p.From)
	case p.Amount <= 0 || p.Amount > MaxAmount:
		return invalid("postings", "a posting amount must be between 1 cent and 10 billion euro, not %d", p.Amount)
	}
	return validateTaxBucket("postings", p.Category, p.TaxBucket)
}

func validateKey(k string) error {
	if k == "" || len(k) > 200 {
		return invalid("key", "an idempotency key of 1 to 200 characters is required")
	}
	// Encoding would turn invalid bytes into U+FFFD, and two different
	// keys into one: a second write acknowledged as a replay of the first.
	if !utf8.ValidString(k) {
		return invalid("key", "an idempotency key must be valid UTF-8")
	}
	return nil
}

// canonicalTime is how the ledger writes an instant in a request, so that
// a true retry hashes as the original did whatever zone it is written in
// or however precise it is: UTC, rounded to the microsecond as PostgreSQL
// stores it (a time read back from the database is the same instant).
func canonicalTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := db.CanonicalTime(*t)
	return &u
}

// canonical returns r with its instants in canonical form (the request
// hash is computed over the JSON the ledger receives: keys sorted by
// PostgreSQL, amounts integers, instants canonical).
func (r Request) canonical() Request {
	r.EffectiveAt = canonicalTime(r.EffectiveAt)
	r.Postings = canonicalPostings(r.Postings)
	return r
}

func canonicalPostings(ps []Posting) []Posting {
	var out []Posting
	for i, p := range ps {
		if p.Lot == nil || p.Lot.ExpiresAt == nil {
			continue
		}
		if out == nil {
			out = slices.Clone(ps)
		}
		lot := *p.Lot
		lot.ExpiresAt = canonicalTime(lot.ExpiresAt)
		out[i].Lot = &lot
	}
	if out == nil {
		return ps
	}
	return out
}

// HoldRequest reserves money: its postings are pending until the hold is
// captured, voided or expires at ExpiresAt. Debited accounts' available
// balance drops at once (floors are checked) and lots are reserved.
type HoldRequest struct {
	Request
	ExpiresAt time.Time
}

// Validate reports the first problem with r as an invalid error.
func (r HoldRequest) Validate() error {
	if r.ExpiresAt.IsZero() {
		return invalid("expires_at", "a hold needs an expiry time")
	}
	return r.Request.Validate()
}

// CaptureRequest resolves a hold by posting. With no Postings and no Split
// it posts exactly what was held; otherwise it may take from the held
// accounts at most what the hold reserved there, and the rest is released.
type CaptureRequest struct {
	Key         string         `json:"key"`
	HoldID      int64          `json:"hold_id"`
	Reference   string         `json:"reference,omitempty"`
	EffectiveAt *time.Time     `json:"effective_at,omitempty"`
	Metadata    map[string]any `json:"metadata,omitempty"`
	Postings    []Posting      `json:"postings,omitempty"`
	Split       *Split         `json:"split,omitempty"`
}

// Validate reports the first problem with r as an invalid error.
func (r CaptureRequest) Validate() error {
	if err := validateKey(r.Key); err != nil {
		return err
	}
	if r.HoldID <= 0 {
		return invalid("hold_id", "a capture names the hold it resolves")
	}
	for i, p := range r.Postings {
		if err := p.validate(); err != nil {
			return err.(*apperr.Error).With("posting", i)
		}
	}
	if r.Split != nil && (r.Split.Gross <= 0 || r.Split.Gross > MaxAmount) {
		return invalid("split.gross", "the gross amount must be between 1 cent and 10 billion euro")
	}
	return r.Split.validateTax()
}

// ReverseRequest undoes a posted transaction with a new, linked one: fully
// (no Postings) or partly (Postings written in the original direction,
// which the reversal inverts). Reversals never add up to more than the
// original moved on any account.
type ReverseRequest struct {
	Key           string         `json:"key"`
	TransactionID int64          `json:"transaction_id"`
	Kind          string         `json:"kind,omitempty"`
	Reference     string         `json:"reference,omitempty"`
	Metadata      map[string]any `json:"metadata,omitempty"`
	Postings      []Posting      `json:"postings,omitempty"`
}

// Validate reports the first problem with r as an invalid error.
func (r ReverseRequest) Validate() error {
	if err := validateKey(r.Key); err != nil {
		return err
	}
	if r.TransactionID <= 0 {
		return invalid("transaction_id", "a reversal names the transaction it reverses")
	}
	for i, p := range r.Postings {
		if err := p.validate(); err != nil {
			return err.(*apperr.Error).With("posting", i)
		}
	}
	return nil
}

// Result is the outcome of a write: the transaction, and whether it was
// written before under the same key (a retry).
type Result struct {
	TxID     int64 `json:"transaction_id" db:"tx_id"`
	Replayed bool  `json:"replayed" db:"replayed"`
}

// wire is the JSON document the SQL functions read.
type wire struct {
	Request
	Hold      bool       `json:"hold,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// JSON is the document ledger_post receives for r (the benchmark uses it
// to compare ways of sending it).
func (r Request) JSON() ([]byte, error) { return json.Marshal(wire{Request: r.canonical()}) }

func invalid(field, format string, args ...any) *apperr.Error {
	return apperr.New(apperr.Invalid, format, args...).With("field", field)
}

// Balance is an account's balance on its normal side.
type Balance struct {
	Account string `json:"account" db:"path"`
	Asset   string `json:"asset" db:"asset"`
	// Posted is the settled balance.
	Posted int64 `json:"posted" db:"posted"`
	// PendingOut is held by pending holds (it will leave, or come back).
	PendingOut int64 `json:"pending_out" db:"pending_out"`
	// PendingIn is promised by pending holds.
	PendingIn int64 `json:"pending_in" db:"pending_in"`
	// Available is Posted − PendingOut: what floors are checked against.
	Available int64  `json:"available" db:"-"`
	Floor     *int64 `json:"floor,omitempty" db:"floor"`
}

// Entry is one line of a transaction on one account.
type Entry struct {
	ID        int64  `json:"id" db:"id"`
	TxID      int64  `json:"transaction_id" db:"tx_id"`
	AccountID int64  `json:"account_id" db:"account_id"`
	Account   string `json:"account" db:"path"`
	// Amount is signed in the ledger's one direction: credit > 0, debit < 0.
	Amount int64 `json:"amount" db:"amount"`
	// Delta is the change of the account's balance on its normal side.
	Delta       int64     `json:"delta" db:"delta"`
	EffectiveAt time.Time `json:"effective_at" db:"effective_at"`
	Kind        string    `json:"kind" db:"kind"`
	// Status is the transaction's: posted, or a hold's pending, captured, voided, expired.
	Status string `json:"status" db:"status"`
}

// Transaction is a ledger transaction with its entries.
type Transaction struct {
	ID          int64           `json:"id" db:"id"`
	Key         string          `json:"key" db:"idempotency_key"`
	Kind        string          `json:"kind" db:"kind"`
	Status      string          `json:"status" db:"status"`
	Reference   string          `json:"reference" db:"reference"`
	EffectiveAt time.Time       `json:"effective_at" db:"effective_at"`
	CreatedAt   time.Time       `json:"created_at" db:"created_at"`
	ExpiresAt   *time.Time      `json:"expires_at,omitempty" db:"expires_at"`
	ResolvedAt  *time.Time      `json:"resolved_at,omitempty" db:"resolved_at"`
	HoldID      *int64          `json:"hold_id,omitempty" db:"hold_id"`
	ReversesID  *int64          `json:"reverses_id,omitempty" db:"reverses_id"`
	PolicyID    *int64          `json:"policy_id,omitempty" db:"policy_id"`
	Split       json.RawMessage `json:"split,omitempty" db:"-"`
	Metadata    json.RawMessage `json:"metadata" db:"-"`
	Entries     []Entry         `json:"entries" db:"-"`
}

// Lot is a piece of an account's balance with its own origin and rules.
type Lot struct {
	ID         int64          `json:"id" db:"id"`
	AccountID  int64          `json:"account_id" db:"account_id"`
	Account    string         `json:"account" db:"path"`
	TxID       int64          `json:"transaction_id" db:"tx_id"`
	ParentID   *int64         `json:"parent_id,omitempty" db:"parent_id"`
	ExpiresAt  *time.Time     `json:"expires_at,omitempty" db:"expires_at"`
	Categories []string       `json:"categories" db:"-"`
	Attrs      map[string]any `json:"attrs" db:"-"`
	// Amount is what the transaction that created the lot put in.
	Amount    int64 `json:"amount" db:"amount"`
	Remaining int64 `json:"remaining" db:"remaining"`
	// Grown is what later contributions added to a day lot (a fund's
	// contributor lot of one company, policy version and day); 0 for
	// other lots. Remaining ≤ Amount + Grown.
	Grown int64 `json:"grown,omitempty" db:"grown"`
	// Group names a day lot's group (empty for other lots).
	Group string `json:"group,omitempty" db:"group_key"`
}

// LotMove records a transaction consuming (Amount > 0) or giving back
// (Amount < 0, Against the consumer) part of a lot, or growing a day lot
// (Amount < 0, no Against): how a disbursement knows whose money it spent.
type LotMove struct {
	TxID    int64  `json:"transaction_id" db:"tx_id"`
	LotID   int64  `json:"lot_id" db:"lot_id"`
	Amount  int64  `json:"amount" db:"amount"`
	Against *int64 `json:"against,omitempty" db:"against_tx"`
	// Category and TaxBucket are what a consumption paid for, as the
	// request said then (empty: not given).
	Category  string `json:"category,omitempty" db:"category"`
	TaxBucket string `json:"tax_bucket,omitempty" db:"tax_bucket"`
	Lot       Lot    `json:"lot" db:"-"`
}
