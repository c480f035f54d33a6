package identity

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"
)

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
	raw, err := io.ReadAll(io.LimitReader(r, maxCSVBytes+1))
	if err != nil {
		return 0, fileError("unreadable", "the file could not be read")
	}
	rows, errs, err := parseInvitationCSV(raw, o.Kind)
	if err != nil {
		return 0, err
	}
	sites, err := siteIDs(ctx, s.db, o.ID)
	if err != nil {
		return 0, apperr.Wrap(err, "reading sites")
	}
	for _, row := range rows {
		if err := s.canGrant(actor, row.in.Roles); err != nil {
			errs = append(errs, RowError{Row: row.line, Field: "roles", Reason: "role_forbidden", Message: err.Error()})
		}
		if _, ok := sites[siteKey(row.in.Site)]; row.in.Site != "" && !ok {
			errs = append(errs, RowError{Row: row.line, Field: "site", Reason: "site_unknown", Value: row.in.Site,
				Message: fmt.Sprintf("no site of the company is called %q", row.in.Site)})
		}
	}
	more, err := s.checkEmployees(ctx, o.ID, rows)
	if err != nil {
		return 0, err
	}
	errs = append(errs, more...)
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
	ID      uuid.UUID `db:"id"`
	OrgID   uuid.UUID `db:"organisation_id"`
	Status  string    `db:"status"` // running, done, failed
	Total   int       `db:"total_rows"`
	Done    int       `db:"done_rows"`
	Invited int       `db:"invited"`
	// Reason says why a failed import failed, as a stable key the web
	// shows in the reader's language (identity.import.reason.<reason>):
	// rows (Errors lists them), interrupted, or an error code.
	Reason    string     `db:"message"`
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
// starting another. A file that cannot be read as a whole (no header, no
// rows, too large) or that the invitation quota cannot take is refused at
// once; problems with rows are reported by Import.
// Errors: forbidden, not_found, invalid (the file, or the key too long), rate_limited,
// conflict (the key came with another file, or its first upload is still
// being started).
func (s *Service) StartImport(ctx context.Context, actor *auth.Principal, file []byte, formKey string) (uuid.UUID, error) {
	o, err := s.managedOrg(ctx, s.db, actor, uuid.Nil)
	if err != nil {
		return uuid.Nil, err
	}
	rows, errs, err := parseInvitationCSV(file, o.Kind)
	if err != nil {
		return uuid.Nil, err
	}
	total := len(rows) + len(errs)
	req := fileRequest{Org: o.ID, File: db.Digest(file)}
	var id uuid.UUID
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
	n, err := s.InviteCSV(ctx, actor, uuid.Nil, bytes.NewReader(file), func(done, total int) {
		_ = importProgress(ctx, s.db, id, done, total)
	}, "")
	status, reason, rows := "done", "", []RowError{}
	if err != nil {
		status, reason = "failed", string(apperr.CodeOf(err))
		if r := rowErrorsOf(err); r != nil {
			reason, rows = "rows", r
		}
		if reason == string(apperr.Internal) {
			slog.Error("invitation import failed", "import", id, "err", err)
		}
	}
	if err := finishImport(ctx, s.db, id, status, n, reason, rows); err != nil {
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
		im.Status, im.Reason = "failed", "interrupted"
	}
	_ = json.Unmarshal(im.ErrorsRaw, &im.Errors)
	return &im, nil
}
