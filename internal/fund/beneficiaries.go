package fund

import (
	"context"
	"crypto/rand"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"
)

// Duplicate is a beneficiary of the fund who looks like the person being
// taken in: same fiscal code, or else same name and birth date.
type Duplicate struct {
	BeneficiaryID uuid.UUID `json:"beneficiary_id" db:"id"`
	Pseudonym     string    `json:"pseudonym" db:"pseudonym"`
	// By is "fiscal_code" or "name_and_birth_date".
	By        string `json:"by" db:"by"`
	OpenCases int    `json:"open_cases" db:"open_cases"`
}

// Duplicates finds beneficiaries of the caller's fund who may be the
// person in id: by the keyed hash of the fiscal code when there is one,
// and by the keyed hash of name and birth date. Erased beneficiaries are
// never found. Errors: forbidden, invalid.
func (s *Service) Duplicates(ctx context.Context, p *auth.Principal, id Identity) ([]Duplicate, error) {
	fund, err := staff(p, auth.RoleCaseWorker, auth.RoleFundManager)
	if err != nil {
		return nil, err
	}
	id.Normalise()
	if err := id.Validate(); err != nil {
		return nil, err
	}
	return s.duplicates(ctx, s.db, fund, id)
}

func (s *Service) duplicates(ctx context.Context, q sqlx.QueryerContext, fund uuid.UUID, id Identity) ([]Duplicate, error) {
	v := vault{s.cfg.VaultKey}
	out := []Duplicate{}
	err := sqlx.SelectContext(ctx, q, &out, `
		SELECT b.id, b.pseudonym,
		       CASE WHEN v.fiscal_code_hash = $2 THEN 'fiscal_code' ELSE 'name_and_birth_date' END AS by,
		       (SELECT count(*) FROM fund_cases c WHERE c.beneficiary_id = b.id AND c.status <> 'closed') AS open_cases
		FROM fund_beneficiaries b JOIN fund_vault v ON v.beneficiary_id = b.id
		WHERE b.fund_id = $1 AND v.erased_at IS NULL AND (v.fiscal_code_hash = $2 OR v.person_hash = $3)
		ORDER BY b.created_at`, fund, v.fiscalHash(fund, id.FiscalCode), v.personHash(fund, id))
	return out, apperr.Wrap(err, "looking for duplicates")
}

// pseudonymAlphabet leaves out letters and digits people confuse.
const pseudonymAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// newPseudonym is a random name for a beneficiary that says nothing about
// them: "B-" and 8 characters (40 bits).
func newPseudonym() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = pseudonymAlphabet[int(b[i])%len(pseudonymAlphabet)]
	}
	return "B-" + string(b)
}

// addBeneficiary stores id sealed in the vault under a new pseudonym.
func (s *Service) addBeneficiary(ctx context.Context, tx *sqlx.Tx, fund uuid.UUID, by *uuid.UUID, id Identity) (uuid.UUID, string, error) {
	v := vault{s.cfg.VaultKey}
	ben := uuid.New()
	pseudonym := newPseudonym()
	wrapped, sealed, err := v.seal(ben, id)
	if err != nil {
		return uuid.Nil, "", apperr.Wrap(err, "sealing identity")
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO fund_beneficiaries (id, fund_id, pseudonym, created_by) VALUES ($1, $2, $3, $4)`,
		ben, fund, pseudonym, by); err != nil {
		return uuid.Nil, "", apperr.Wrap(err, "adding beneficiary")
	}
	var fiscal []byte
	if id.FiscalCode != "" {
		fiscal = v.fiscalHash(fund, id.FiscalCode)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO fund_vault (beneficiary_id, wrapped_key, identity, fiscal_code_hash, person_hash)
		VALUES ($1, $2, $3, $4, $5)`, ben, wrapped, sealed, fiscal, v.personHash(fund, id)); err != nil {
		return uuid.Nil, "", apperr.Wrap(err, "storing identity")
	}
	return ben, pseudonym, nil
}

// BeneficiaryIdentity opens the identity of beneficiary for r, logged as
// a read with r's purpose. It follows the visibility of the beneficiary's
// cases: r must see at least one (fund managers also see it to answer a
// data-subject request). Errors: forbidden, invalid (purpose), not_found
// (no such beneficiary visible to r, or their identity was erased).
func (s *Service) BeneficiaryIdentity(ctx context.Context, r Reader, beneficiary uuid.UUID) (Identity, error) {
	fund, err := staff(r.P, auth.RoleFundManager, auth.RoleFundApprover, auth.RoleCaseWorker)
	if err != nil {
		return Identity{}, err
	}
	if err := r.Purpose.Validate(); err != nil {
		return Identity{}, err
	}
	if !r.P.Has(auth.RoleFundManager) || r.Purpose != PurposeDataRequest {
		var cases []uuid.UUID
		if err := sqlx.SelectContext(ctx, s.db, &cases, `SELECT id FROM fund_cases WHERE beneficiary_id = $1 AND fund_id = $2`,
			beneficiary, fund); err != nil {
			return Identity{}, apperr.Wrap(err, "reading cases")
		}
		seen := false
		for _, c := range cases {
			if a, err := caseVisibility(ctx, s.db, r.P, fund, c); err == nil && a.visible() {
				seen = true
				break
			}
		}
		if !seen {
			_ = logAccess(ctx, s.db, fund, r, "denied", nil, &beneficiary, "")
			return Identity{}, apperr.New(apperr.NotFound, "beneficiary not found")
		}
	}
	var row struct {
		Wrapped []byte `db:"wrapped_key"`
		Sealed  []byte `db:"identity"`
	}
	err = s.db.GetContext(ctx, &row, `SELECT v.wrapped_key, v.identity FROM fund_vault v JOIN fund_beneficiaries b ON b.id = v.beneficiary_id
		WHERE b.id = $1 AND b.fund_id = $2 AND v.erased_at IS NULL`, beneficiary, fund)
	if err != nil {
		return Identity{}, db.MapError(err, "beneficiary")
	}
	id, err := vault{s.cfg.VaultKey}.open(beneficiary, row.Wrapped, row.Sealed)
	if err != nil {
		return Identity{}, apperr.Wrap(err, "opening identity")
	}
	return id, logAccess(ctx, s.db, fund, r, "read_identity", nil, &beneficiary, "")
}

// BeneficiaryRef is what a fund manager sees of a beneficiary when a
// person exercises their rights: no identity, only the pseudonym, how many
// cases they have and whether their identity was erased.
type BeneficiaryRef struct {
	ID        uuid.UUID  `json:"id" db:"id"`
	Pseudonym string     `json:"pseudonym" db:"pseudonym"`
	Cases     int        `json:"cases" db:"cases"`
	ErasedAt  *time.Time `json:"erased_at,omitempty" db:"erased_at"`
}

// FindBeneficiary finds a beneficiary of the manager's fund by pseudonym,
// as typed ("b-qss23w67", "QSS23W67"). Errors: forbidden, not_found
// (also for another fund's pseudonym).
func (s *Service) FindBeneficiary(ctx context.Context, p *auth.Principal, pseudonym string) (BeneficiaryRef, error) {
	fund, err := staff(p, auth.RoleFundManager)
	if err != nil {
		return BeneficiaryRef{}, err
	}
	pseudonym = strings.ToUpper(strings.Join(strings.Fields(pseudonym), ""))
	if !strings.HasPrefix(pseudonym, "B-") {
		pseudonym = "B-" + pseudonym
	}
	var out BeneficiaryRef
	err = s.db.GetContext(ctx, &out, `SELECT b.id, b.pseudonym, v.erased_at,
		  (SELECT count(*) FROM fund_cases c WHERE c.beneficiary_id = b.id) AS cases
		FROM fund_beneficiaries b JOIN fund_vault v ON v.beneficiary_id = b.id
		WHERE b.fund_id = $1 AND b.pseudonym = $2`, fund, pseudonym)
	if isNoRows(err) {
		return BeneficiaryRef{}, apperr.New(apperr.NotFound, "no beneficiary of the fund has this pseudonym").With("field", "pseudonym")
	}
	return out, apperr.Wrap(err, "finding beneficiary")
}

// EraseIdentity erases beneficiary's key (fund managers: a request to be
// forgotten, or the end of retention): their identity is gone from the
// database and from every backup, which holds it only sealed with that
// key. Cases, outcomes, payments and the ledger keep the pseudonym.
// Errors: forbidden, invalid (reason), not_found.
func (s *Service) EraseIdentity(ctx context.Context, p *auth.Principal, beneficiary uuid.UUID, reason string) error {
	fund, err := staff(p, auth.RoleFundManager)
	if err != nil {
		return err
	}
	reason = strings.TrimSpace(reason)
	if n := utf8.RuneCountInString(reason); n < 5 || n > 500 {
		return invalidField("reason", "say why the identity is erased (5 to 500 characters)")
	}
	return db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		n, err := eraseKey(ctx, tx, fund, beneficiary, reason)
		if err != nil {
			return err
		}
		if n == 0 {
			return apperr.New(apperr.NotFound, "beneficiary not found or already erased")
		}
		if err := logAccess(ctx, tx, fund, Reader{P: p}, "erase", nil, &beneficiary, reason); err != nil {
			return err
		}
		return s.orgs.RecordEvent(ctx, tx, "fund_identity_erased", p, fund, map[string]any{"beneficiary": beneficiary, "reason": reason})
	})
}

// eraseKey drops the wrapped key, the sealed identity and the hashes.
func eraseKey(ctx context.Context, q sqlx.ExtContext, fund, beneficiary uuid.UUID, reason string) (int64, error) {
	res, err := q.ExecContext(ctx, `UPDATE fund_vault v SET wrapped_key = NULL, identity = NULL, fiscal_code_hash = NULL,
		person_hash = NULL, erased_at = now(), erased_reason = $3
		FROM fund_beneficiaries b WHERE b.id = v.beneficiary_id AND b.id = $1 AND b.fund_id = $2 AND v.erased_at IS NULL`,
		beneficiary, fund, reason)
	if err != nil {
		return 0, apperr.Wrap(err, "erasing key")
	}
	return res.RowsAffected()
}

// EraseExpired erases the keys of beneficiaries whose cases have all been
// closed for longer than the retention period, up to limit: the worker's
// retention job. It returns how many it erased.
func (s *Service) EraseExpired(ctx context.Context, limit int) (int, error) {
	var due []struct {
		Fund        uuid.UUID `db:"fund_id"`
		Beneficiary uuid.UUID `db:"id"`
	}
	err := sqlx.SelectContext(ctx, s.db, &due, `
		SELECT b.fund_id, b.id FROM fund_beneficiaries b JOIN fund_vault v ON v.beneficiary_id = b.id
		WHERE v.erased_at IS NULL
		  AND EXISTS (SELECT 1 FROM fund_cases c WHERE c.beneficiary_id = b.id)
		  AND NOT EXISTS (SELECT 1 FROM fund_cases c WHERE c.beneficiary_id = b.id
		                  AND (c.status <> 'closed' OR c.closed_at > now() - $1 * interval '1 second'))
		ORDER BY b.created_at LIMIT $2`, s.cfg.Retention.Seconds(), limit)
	if err != nil {
		return 0, apperr.Wrap(err, "finding identities past retention")
	}
	n := 0
	for _, d := range due {
		err := db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
			k, err := eraseKey(ctx, tx, d.Fund, d.Beneficiary, "retention")
			if err != nil || k == 0 {
				return err
			}
			n++
			return logAccess(ctx, tx, d.Fund, Reader{}, "erase", nil, &d.Beneficiary, "retention")
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// ExpiredIdentities counts the identities the retention job would erase.
func (s *Service) ExpiredIdentities(ctx context.Context) (int, error) {
	var n int
	err := s.db.GetContext(ctx, &n, `
		SELECT count(*) FROM fund_beneficiaries b JOIN fund_vault v ON v.beneficiary_id = b.id
		WHERE v.erased_at IS NULL AND EXISTS (SELECT 1 FROM fund_cases c WHERE c.beneficiary_id = b.id)
		  AND NOT EXISTS (SELECT 1 FROM fund_cases c WHERE c.beneficiary_id = b.id
		                  AND (c.status <> 'closed' OR c.closed_at > now() - $1 * interval '1 second'))`, s.cfg.Retention.Seconds())
	return n, apperr.Wrap(err, "counting identities past retention")
}

// Export is everything the fund holds about one beneficiary, for a
// request of access or portability (art. 15 and 20 GDPR).
type Export struct {
	Pseudonym     string         `json:"pseudonym"`
	Identity      *Identity      `json:"identity,omitempty"`
	Cases         []Case         `json:"cases"`
	Interventions []Intervention `json:"interventions"`
	Outcomes      []Outcome      `json:"outcomes"`
	Accesses      []AccessEntry  `json:"access_log"`
}

// ExportBeneficiary gathers a beneficiary's data for a data-subject
// request (fund managers, purpose data_subject_request), logged as an
// export. Errors: forbidden, invalid (purpose), not_found.
func (s *Service) ExportBeneficiary(ctx context.Context, r Reader, beneficiary uuid.UUID) (Export, error) {
	fund, err := staff(r.P, auth.RoleFundManager)
	if err != nil {
		return Export{}, err
	}
	if r.Purpose != PurposeDataRequest {
		return Export{}, invalidField("purpose", "an export answers a data subject's request: give that purpose")
	}
	var out Export
	if err := s.db.GetContext(ctx, &out.Pseudonym, `SELECT pseudonym FROM fund_beneficiaries WHERE id = $1 AND fund_id = $2`, beneficiary, fund); err != nil {
		return Export{}, db.MapError(err, "beneficiary")
	}
	if id, err := s.BeneficiaryIdentity(ctx, r, beneficiary); err == nil {
		out.Identity = &id
	} else if !apperr.Is(err, apperr.NotFound) {
		return Export{}, err
	}
	var cases []uuid.UUID
	if err := sqlx.SelectContext(ctx, s.db, &cases, `SELECT id FROM fund_cases WHERE beneficiary_id = $1 ORDER BY opened_at`, beneficiary); err != nil {
		return Export{}, apperr.Wrap(err, "reading cases")
	}
	out.Cases, out.Interventions, out.Outcomes = []Case{}, []Intervention{}, []Outcome{}
	for _, id := range cases {
		c, err := readCase(ctx, s.db, id)
		if err != nil {
			return Export{}, err
		}
		out.Cases = append(out.Cases, c)
		var ins []Intervention
		if err := sqlx.SelectContext(ctx, s.db, &ins, `SELECT `+interventionCols+interventionFrom+` WHERE i.case_id = $1 ORDER BY i.proposed_at`, id); err != nil {
			return Export{}, apperr.Wrap(err, "reading interventions")
		}
		out.Interventions = append(out.Interventions, ins...)
		var outs []Outcome
		if err := sqlx.SelectContext(ctx, s.db, &outs, `SELECT id, case_id, indicator, achieved_on FROM fund_outcomes WHERE case_id = $1`, id); err != nil {
			return Export{}, apperr.Wrap(err, "reading outcomes")
		}
		out.Outcomes = append(out.Outcomes, outs...)
	}
	if out.Accesses, err = s.AccessLog(ctx, r.P, &beneficiary, 0, 500); err != nil {
		return Export{}, err
	}
	return out, logAccess(ctx, s.db, fund, r, "export", nil, &beneficiary, "")
}
