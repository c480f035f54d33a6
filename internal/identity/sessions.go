package identity

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"
)

// Session is a browser sign-in.
type Session struct {
	Token     string // the cookie value
	ExpiresAt time.Time
	Principal *auth.Principal
	// NeedsTOTPSetup is true when the user's role requires a second factor
	// they have not set up yet: the web app lets them do only that.
	NeedsTOTPSetup bool
}

// SignIn signs a browser in and returns its session. Errors as Login,
// except that a missing second factor is not an error: the session says
// NeedsTOTPSetup.
func (s *Service) SignIn(ctx context.Context, cr Credentials) (*Session, error) {
	u, err := s.checkCredentials(ctx, cr)
	if err != nil {
		return nil, err
	}
	return s.newSession(ctx, s.db, u)
}

func (s *Service) newSession(ctx context.Context, q sqlx.ExecerContext, u *userRow) (*Session, error) {
	tok := randomToken()
	exp := time.Now().Add(s.cfg.SessionTTL)
	if err := insertSession(ctx, q, u.ID, hashToken(tok), exp); err != nil {
		return nil, apperr.Wrap(err, "storing session")
	}
	return &Session{Token: tok, ExpiresAt: exp, Principal: u.principal(), NeedsTOTPSetup: u.needsTOTP() && !u.TOTPEnabled}, nil
}

// The two ways a browser session is refused (see auth.RefusalFrom).
var (
	// ErrSessionExpired: the cookie names no live session.
	ErrSessionExpired = apperr.New(apperr.Unauthorized, "your session has expired: sign in again")
	// ErrSecondFactorSetup: the session's holder has a role that needs a
	// second factor they have not set up. The web app lets them set it up
	// (and nothing else); the API refuses them.
	ErrSecondFactorSetup = apperr.New(apperr.Unauthorized, "set up two-factor authentication first")
)

// SessionOf returns the live session with this cookie value, or nil.
func (s *Service) SessionOf(ctx context.Context, token string) (*Session, error) {
	if token == "" {
		return nil, nil
	}
	u, err := sessionUser(ctx, s.db, hashToken(token))
	if apperr.Is(err, apperr.NotFound) || (err == nil && !u.canSignIn()) {
		return nil, nil
	}
	if err != nil {
		return nil, apperr.Wrap(err, "reading session")
	}
	return &Session{Token: token, Principal: u.principal(), NeedsTOTPSetup: u.needsTOTP() && !u.TOTPEnabled}, nil
}

// SignOut ends a browser session.
func (s *Service) SignOut(ctx context.Context, token string) error {
	sess, err := s.SessionOf(ctx, token)
	if err != nil {
		return err
	}
	return apperr.Wrap(db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if err := deleteSession(ctx, tx, hashToken(token)); err != nil {
			return err
		}
		if sess == nil {
			return nil
		}
		p := sess.Principal
		return audit(ctx, tx, Event{Name: EventLogout, SubjectID: &p.UserID, ActorID: &p.UserID, OrgID: &p.OrgID, IP: auth.ClientIP(ctx)})
	}), "signing out")
}

// SessionCookie is the name of the browser session cookie. Over https it
// carries the __Host- prefix, which browsers accept only with Secure,
// Path=/ and no Domain: it cannot be set by a sibling subdomain.
func (s *Service) SessionCookie() string {
	if s.cfg.SecureCookies {
		return "__Host-session"
	}
	return "session"
}

// SessionFor opens a browser session for an active user, as SignIn does
// after checking the password. Errors: not_found, unauthorized.
func (s *Service) SessionFor(ctx context.Context, userID uuid.UUID) (*Session, error) {
	u, err := s.activeUser(ctx, s.db, userID)
	if err != nil {
		return nil, err
	}
	return s.newSession(ctx, s.db, u)
}
