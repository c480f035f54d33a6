package identity

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"
)

// MaxCSVRows bounds one upload.
const MaxCSVRows = 10000

// maxReportedRows bounds how many row errors are reported (the total is
// always given).
const maxReportedRows = 200

// RowError is one problem in an uploaded file; Row is the line number as a
// spreadsheet shows it (the header is row 1).
type RowError struct {
	Row     int    `json:"row"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// csvRow is a parsed line.
type csvRow struct {
	line int
	in   Invitation
}

// parseInvitationCSV reads a file with a header row naming the columns
// email, name (or nome) and optionally role (or ruolo; several roles
// separated by "|"; default employee in a company). Comma or semicolon
// separated (spreadsheets in Italy export with semicolons). Every row is
// checked; all problems are returned.
func parseInvitationCSV(r io.Reader, kind auth.OrgKind) ([]csvRow, []RowError, error) {
	raw, err := io.ReadAll(io.LimitReader(r, 4<<20+1))
	if err != nil {
		return nil, nil, apperr.New(apperr.Invalid, "the file could not be read")
	}
	if len(raw) > 4<<20 {
		return nil, nil, apperr.New(apperr.Invalid, "the file is larger than 4 MB").With("field", "file")
	}
	text := strings.TrimPrefix(string(raw), "\ufeff") // Excel's byte-order mark
	first, _, _ := strings.Cut(text, "\n")
	cr := csv.NewReader(strings.NewReader(text))
	if strings.Count(first, ";") > strings.Count(first, ",") {
		cr.Comma = ';'
	}
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return nil, nil, apperr.New(apperr.Invalid, "the file is empty or not CSV").With("field", "file")
	}
	col := map[string]int{}
	for i, h := range header {
		switch strings.ToLower(strings.TrimSpace(h)) {
		case "email", "e-mail":
			col["email"] = i
		case "name", "nome", "nome e cognome":
			col["name"] = i
		case "role", "roles", "ruolo", "ruoli":
			col["role"] = i
		}
	}
	if _, ok := col["email"]; !ok {
		return nil, nil, apperr.New(apperr.Invalid, "the first row must name the columns: email, name and optionally role").With("field", "file")
	}
	if _, ok := col["name"]; !ok {
		return nil, nil, apperr.New(apperr.Invalid, "the first row must name the columns: email, name and optionally role").With("field", "file")
	}
	var rows []csvRow
	var errs []RowError
	seen := map[string]int{}
	line := 1
	for {
		rec, err := cr.Read()
		line++
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				errs = append(errs, RowError{Row: pe.Line, Field: "file", Message: pe.Err.Error()})
				continue
			}
			return nil, nil, apperr.New(apperr.Invalid, "the file is not valid CSV").With("field", "file")
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // blank line
		}
		if len(rows)+len(errs) >= MaxCSVRows {
			return nil, nil, apperr.New(apperr.Invalid, "the file has more than %d rows: split it", MaxCSVRows).With("field", "file")
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		if field := badCell(rec, header, col); field != "" {
			errs = append(errs, RowError{Row: line, Field: field,
				Message: `contains characters that are not allowed: a NUL, or bytes that are not UTF-8 (save the file as "CSV UTF-8")`})
			continue
		}
		in := Invitation{Email: get("email"), Name: get("name")}
		roleText := get("role")
		if roleText == "" && kind == auth.OrgCompany {
			roleText = string(auth.RoleEmployee)
		}
		for _, r := range strings.Split(roleText, "|") {
			if r = strings.TrimSpace(r); r != "" {
				in.Roles = append(in.Roles, auth.Role(strings.ToLower(r)))
			}
		}
		if err := in.Validate(kind); err != nil {
			var ae *apperr.Error
			errors.As(err, &ae)
			errs = append(errs, RowError{Row: line, Field: apperr.FieldOf(err), Message: ae.Message})
			continue
		}
		key := strings.ToLower(in.Email)
		if prev, dup := seen[key]; dup {
			errs = append(errs, RowError{Row: line, Field: "email", Message: fmt.Sprintf("%s is already on row %d", in.Email, prev)})
			continue
		}
		seen[key] = line
		rows = append(rows, csvRow{line: line, in: in})
	}
	if len(rows) == 0 && len(errs) == 0 {
		return nil, nil, apperr.New(apperr.Invalid, "the file has no rows below the header").With("field", "file")
	}
	return rows, errs, nil
}

// badCell names the column of the first cell of rec that PostgreSQL could
// not store (a NUL, or bytes that are not UTF-8), or returns "": the
// column's name as this import knows it (email, name, role), else its
// heading, else its number.
func badCell(rec, header []string, col map[string]int) string {
	for i, cell := range rec {
		if strings.IndexByte(cell, 0) < 0 && utf8.ValidString(cell) {
			continue
		}
		for name, j := range col {
			if j == i {
				return name
			}
		}
		if i < len(header) && header[i] != "" && strings.IndexByte(header[i], 0) < 0 && utf8.ValidString(header[i]) {
			return strings.TrimSpace(header[i])
		}
		return fmt.Sprintf("column %d", i+1)
	}
	return ""
}

// rowsError is the invalid error that lists the rows at fault.
func rowsError(errs []RowError) error {
	n := len(errs)
	if len(errs) > maxReportedRows {
		errs = errs[:maxReportedRows]
	}
	return apperr.New(apperr.Invalid, "%d row(s) have errors: nothing was imported", n).With("rows", errs).With("error_count", n)
}

// rowErrorsOf returns the row errors of a refused import (as built above),
// or nil.
func rowErrorsOf(err error) []RowError {
	var ae *apperr.Error
	if errors.As(err, &ae) {
		r, _ := ae.Fields["rows"].([]RowError)
		return r
	}
	return nil
}

// InviteCSV invites everyone in a CSV file into the actor's organisation
// (orgID zero) or, for a platform admin, into orgID: all or nothing. When
// any row is wrong nothing is written and the error (invalid) lists every
// row at fault in details.rows; an address that already has an account
// is not at fault and is never named (its owner gets a neutral mail). progress, when not nil, is told how many
// rows are done. With an idempotency key (the actor's own, see
// db.Idempotent) a retry of the same file into the same organisation
// returns the first count and mails nobody again. Every row counts
// against the invitation quota. Errors: invalid, forbidden, not_found,
// rate_limited, conflict (the key was used for another request or
// is in use).
func (s *Service) InviteCSV(ctx context.Context, actor *auth.Principal, orgID uuid.UUID, r io.Reader, progress func(done, total int), idempotencyKey string) (int, error) {
	o, err := s.managedOrg(ctx, s.db, actor, orgID)
	if err != nil {
		return 0, err
	}
	if err := db.CheckKey(idempotencyKey); err != nil {
		return 0, err
	}
	raw, err := io.ReadAll(io.LimitReader(r, 4<<20+1))
	if err != nil {
		return 0, apperr.New(apperr.Invalid, "the file could not be read")
	}
	rows, errs, err := parseInvitationCSV(bytes.NewReader(raw), o.Kind)
	if err != nil {
		return 0, err
	}
	for _, row := range rows {
		if err := s.canGrant(actor, row.in.Roles); err != nil {
			errs = append(errs, RowError{Row: row.line, Field: "roles", Message: err.Error()})
		}
	}
	var invited int
	req := fileRequest{Org: o.ID, File: db.Digest(raw)}
	_, err = db.Idempotent(ctx, s.db, keyScope(actor, "invite_csv"), idempotencyKey, req, &invited, func(tx *sqlx.Tx) error {
		// An address that already has an account is no error: it is never
		// named here (createInvited mails its owner instead).
		if len(errs) > 0 {
			sortRowErrors(errs)
			return rowsError(errs)
		}
		if err := s.takeInvitationQuota(ctx, tx, actor, len(rows)); err != nil {
			return err
		}
		const chunk = 200
		for i := 0; i < len(rows); i += chunk {
			end := min(i+chunk, len(rows))
			ins := make([]Invitation, 0, end-i)
			for _, row := range rows[i:end] {
				ins = append(ins, row.in)
			}
			if err := s.createInvited(ctx, tx, actor, o, ins); err != nil {
				return err
			}
			if progress != nil {
				progress(end, len(rows))
			}
		}
		invited = len(rows)
		return nil
	})
	if err != nil {
		return 0, apperr.Wrap(err, "importing invitations")
	}
	return invited, nil
}

func sortRowErrors(errs []RowError) {
	for i := 1; i < len(errs); i++ {
		for j := i; j > 0 && errs[j].Row < errs[j-1].Row; j-- {
			errs[j], errs[j-1] = errs[j-1], errs[j]
		}
	}
}

// Import is a CSV upload being imported in the background.
type Import struct {
	ID        uuid.UUID  `db:"id"`
	OrgID     uuid.UUID  `db:"organisation_id"`
	Status    string     `db:"status"` // running, done, failed
	Total     int        `db:"total_rows"`
	Done      int        `db:"done_rows"`
	Invited   int        `db:"invited"`
	Message   string     `db:"message"`
	ErrorsRaw []byte     `db:"errors"`
	CreatedAt time.Time  `db:"created_at"`
	Finished  *time.Time `db:"finished_at"`
	Errors    []RowError `db:"-"`
}

// Percent is how far the import is, 0-100.
func (i Import) Percent() int {
	if i.Status != "running" {
		return 100
	}
	if i.Total == 0 {
		return 0
	}
	return i.Done * 100 / i.Total
}

// StartImport reads the file now and imports it in the background (one
// transaction, all or nothing), reporting progress in the import row that
// Import reads. A form key (the web form's hidden per-form key) makes a
// double submission of the same file return the first import instead of
// starting another. A file past the invitation quota is refused at once.
// Errors: forbidden, not_found, invalid (key too long), rate_limited,
// conflict (the key came with another file, or its first upload is still
// being started).
func (s *Service) StartImport(ctx context.Context, actor *auth.Principal, file []byte, formKey string) (uuid.UUID, error) {
	o, err := s.managedOrg(ctx, s.db, actor, uuid.Nil)
	if err != nil {
		return uuid.Nil, err
	}
	req := fileRequest{Org: o.ID, File: db.Digest(file)}
	var id uuid.UUID
	total := strings.Count(strings.TrimSpace(string(file)), "\n") // rows below the header, roughly
	replayed, err := db.Idempotent(ctx, s.db, keyScope(actor, "import"), formKey, req, &id, func(tx *sqlx.Tx) error {
		// A file the quota cannot take is refused now, on the form, rather
		// than on the progress page; the import takes the quota itself.
		if err := s.quotaAllows(ctx, tx, actor, total); err != nil {
			return err
		}
		id, err = insertImport(ctx, tx, o.ID, actor.UserID, total)
		return err
	})
	if err != nil {
		return uuid.Nil, apperr.Wrap(err, "starting import")
	}
	if replayed {
		return id, nil
	}
	// Detached from the request: the upload page redirects at once and the
	// import goes on. If the process stops, the transaction rolls back.
	bg := auth.WithClientIP(context.Background(), auth.ClientIP(ctx))
	go s.runImport(bg, actor, id, file)
	return id, nil
}

func (s *Service) runImport(ctx context.Context, actor *auth.Principal, id uuid.UUID, file []byte) {
	n, err := s.InviteCSV(ctx, actor, uuid.Nil, strings.NewReader(string(file)), func(done, total int) {
		_ = importProgress(ctx, s.db, id, done, total)
	}, "")
	status, msg, rows := "done", "", []RowError{}
	if err != nil {
		status = "failed"
		var ae *apperr.Error
		if errors.As(err, &ae) && ae.Code != apperr.Internal {
			msg = ae.Message
			if r := rowErrorsOf(err); r != nil {
				rows = r
			}
		} else {
			slog.Error("invitation import failed", "import", id, "err", err)
			msg = "internal error"
		}
	}
	if err := finishImport(ctx, s.db, id, status, n, msg, rows); err != nil {
		slog.Error("recording import result", "import", id, "err", err)
	}
}

// Import returns an import of the actor's organisation. An import still
// running after 15 minutes is reported failed (its process stopped; its
// transaction was rolled back). Errors: not_found.
func (s *Service) Import(ctx context.Context, actor *auth.Principal, id uuid.UUID) (*Import, error) {
	im, err := importOf(ctx, s.db, actor.OrgID, id)
	if err != nil {
		return nil, apperr.Wrap(err, "reading import")
	}
	if im.Status == "running" && time.Since(im.CreatedAt) > 15*time.Minute {
		im.Status, im.Message = "failed", "the import was interrupted: nothing was imported, upload the file again"
	}
	_ = json.Unmarshal(im.ErrorsRaw, &im.Errors)
	return &im, nil
}
