package identity

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
)

// Event is one security event for the audit log.
type Event struct {
	Name      string
	ActorID   *uuid.UUID
	OrgID     *uuid.UUID
	SubjectID *uuid.UUID
	Email     string
	IP        string
	Details   map[string]any
}

// AuditEntry is one security event.
type AuditEntry struct {
	ID        int64      `db:"id"`
	At        time.Time  `db:"at"`
	Event     string     `db:"event"`
	ActorID   *uuid.UUID `db:"actor_id"`
	OrgID     *uuid.UUID `db:"organisation_id"`
	SubjectID *uuid.UUID `db:"subject_id"`
	Email     *string    `db:"email"`
	IP        string     `db:"ip"`
	Details   string     `db:"details"`
}

// AuditLog returns security events, newest first: up to limit (1-500)
// older than before (0: the newest). Errors: forbidden (platform admins
// only).
func (s *Service) AuditLog(ctx context.Context, actor *auth.Principal, limit int, before int64) ([]AuditEntry, error) {
	if !actor.Has(auth.RolePlatformAdmin) {
		return nil, apperr.New(apperr.Forbidden, "only platform administrators read the security audit log")
	}
	if limit < 1 || limit > 500 {
		return nil, invalidField("limit", "limit must be between 1 and 500")
	}
	if before <= 0 {
		before = 1<<63 - 1
	}
	out, err := auditEntries(ctx, s.db, before, limit)
	return out, apperr.Wrap(err, "reading audit log")
}

// RecordEvent appends an event another domain decided (a catalogue
// decision such as granting an inclusion label) to the audit log, inside
// that domain's transaction q, so that the decision and its record commit
// together. actor did it; orgID is the organisation it is about.
func (s *Service) RecordEvent(ctx context.Context, q sqlx.ExecerContext, event string, actor *auth.Principal, orgID uuid.UUID, details map[string]any) error {
	e := Event{Name: event, OrgID: &orgID, Details: details}
	if actor != nil {
		e.ActorID, e.Email = &actor.UserID, actor.Email
	}
	return apperr.Wrap(audit(ctx, q, e), "recording %s", event)
}

// The audit events.
const (
	EventLoginSucceeded = "login_succeeded"
	EventLoginFailed    = "login_failed"
	EventLoginLocked    = "login_locked"
	EventLockout        = "lockout"
	EventRefreshReuse   = "refresh_token_reuse"
	EventLogout         = "logout"
	EventRoleChanged    = "role_changed"
	EventUserInvited    = "user_invited"
	// EventInviteExisting: someone invited an address that has an account.
	EventInviteExisting  = "invite_existing_account"
	EventUserActivated   = "user_activated"
	EventUserDeactivated = "user_deactivated"
	EventPasswordReset   = "password_reset"
	EventTOTPEnabled     = "totp_enabled"
	EventRecoveryUsed    = "recovery_code_used"
	EventSiteSaved       = "site_saved"
	EventSiteDeleted     = "site_deleted"
)
