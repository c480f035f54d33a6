package seed

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/identity"
)

// DemoPassword is the password of every demo account.
const DemoPassword = "reciproca-demo"

// The demo organisations have fixed ids so later data sets (catalogue,
// plans, fund...) can refer to them.
var (
	OrgPlatform  = uuid.MustParse("0d000000-0000-4000-8000-000000000001")
	OrgCompanyA  = uuid.MustParse("0d000000-0000-4000-8000-0000000000a1") // Officine Brianza S.p.A.
	OrgCompanyB  = uuid.MustParse("0d000000-0000-4000-8000-0000000000a2") // Studio Verdi & Associati
	OrgProviderA = uuid.MustParse("0d000000-0000-4000-8000-0000000000b1") // Coop. sociale Il Germoglio
	OrgProviderB = uuid.MustParse("0d000000-0000-4000-8000-0000000000b2") // ASD Ponte Sport
	OrgFund      = uuid.MustParse("0d000000-0000-4000-8000-0000000000c1") // Fondo Inclusione Brianza
	demoOrgs     = []demoOrg{
		{OrgPlatform, auth.OrgPlatform, "Reciproca (piattaforma)"},
		{OrgCompanyA, auth.OrgCompany, "Officine Brianza S.p.A."},
		{OrgCompanyB, auth.OrgCompany, "Studio Verdi & Associati"},
		{OrgProviderA, auth.OrgProvider, "Cooperativa sociale Il Germoglio"},
		{OrgProviderB, auth.OrgProvider, "ASD Ponte Sport"},
		{OrgFund, auth.OrgFund, "Fondo Inclusione Brianza"},
	}
)

type demoOrg struct {
	id   uuid.UUID
	kind auth.OrgKind
	name string
}

// demoUser is one demo account; TOTP secrets are fixed so the development
// accounts page can show the current code.
type demoUser struct {
	org   uuid.UUID
	email string
	name  string
	role  auth.Role
	totp  string
}

var demoUsers = []demoUser{
	{OrgPlatform, "admin@reciproca.example", "Paola Admin", auth.RolePlatformAdmin, "JBSWY3DPEHPK3PXPDEMOPLATFORMADMN"},
	{OrgCompanyA, "hr@officinebrianza.example", "Marco Colombo", auth.RoleCompanyAdmin, ""},
	{OrgCompanyA, "giulia.ferrari@officinebrianza.example", "Giulia Ferrari", auth.RoleEmployee, ""},
	{OrgCompanyA, "luca.galli@officinebrianza.example", "Luca Galli", auth.RoleEmployee, ""},
	{OrgCompanyA, "sara.brambilla@officinebrianza.example", "Sara Brambilla", auth.RoleEmployee, ""},
	{OrgCompanyB, "hr@studioverdi.example", "Elena Verdi", auth.RoleCompanyAdmin, ""},
	{OrgCompanyB, "andrea.russo@studioverdi.example", "Andrea Russo", auth.RoleEmployee, ""},
	{OrgCompanyB, "chiara.fontana@studioverdi.example", "Chiara Fontana", auth.RoleEmployee, ""},
	{OrgProviderA, "staff@germoglio.example", "Francesca Riva", auth.RoleProviderStaff, ""},
	{OrgProviderA, "educatore@germoglio.example", "Davide Sala", auth.RoleProviderStaff, ""},
	{OrgProviderB, "staff@pontesport.example", "Matteo Villa", auth.RoleProviderStaff, ""},
	{OrgFund, "gestore@fondobrianza.example", "Roberta Conti", auth.RoleFundManager, "JBSWY3DPEHPK3PXPDEMOFUNDMANAGER2"},
	{OrgFund, "operatore@fondobrianza.example", "Simone Marchetti", auth.RoleCaseWorker, ""},
	{OrgFund, "approvatore@fondobrianza.example", "Laura Bianchi", auth.RoleFundApprover, "JBSWY3DPEHPK3PXPDEMOFUNDAPPROVE3"},
	{OrgFund, "revisore@fondobrianza.example", "Giorgio Neri", auth.RoleAuditor, ""},
}

var identitySet = set{
	name:     "identity",
	accounts: identityAccounts(),
	load:     loadIdentity,
}

func identityAccounts() []Account {
	names := map[uuid.UUID]string{}
	for _, o := range demoOrgs {
		names[o.id] = o.name
	}
	out := make([]Account, len(demoUsers))
	for i, u := range demoUsers {
		out[i] = Account{Role: string(u.role), Organisation: names[u.org], Email: u.email, Password: DemoPassword, TOTPSecret: u.totp}
	}
	return out
}

func loadIdentity(ctx context.Context, tx *sqlx.Tx) error {
	for _, o := range demoOrgs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO organisations (id, kind, name) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING`,
			o.id, o.kind, o.name); err != nil {
			return fmt.Errorf("organisation %s: %w", o.name, err)
		}
	}
	hash := identity.HashPassword(identity.DefaultArgon2, DemoPassword)
	for _, u := range demoUsers {
		var secret *string
		if u.totp != "" {
			sealed := identity.SealTOTPSecret(identity.DevTOTPKey, u.totp)
			secret = &sealed
		}
		var id uuid.UUID
		err := tx.GetContext(ctx, &id, `INSERT INTO users (organisation_id, email, name, password_hash, status, totp_secret, totp_enabled_at)
			VALUES ($1, $2, $3, $4, 'active', $5, CASE WHEN $5::text IS NULL THEN NULL ELSE now() END)
			ON CONFLICT (email) DO UPDATE SET email = EXCLUDED.email RETURNING id`, u.org, u.email, u.name, hash, secret)
		if err != nil {
			return fmt.Errorf("user %s: %w", u.email, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO user_roles (user_id, role) VALUES ($1, $2) ON CONFLICT DO NOTHING`, id, u.role); err != nil {
			return fmt.Errorf("role of %s: %w", u.email, err)
		}
	}
	return loadSites(ctx, tx)
}

// demoSites are where the demo companies' people work; one employee of
// Officine Brianza has not picked hers, so the home page asks her to.
var demoSites = []struct {
	id                   uuid.UUID
	org                  uuid.UUID
	name, address, place string
	people               []string
}{
	{uuid.MustParse("0d000000-0000-4000-8000-0000000005a1"), OrgCompanyA, "Stabilimento di Lecco", "Via Valsugana 12", "097042",
		[]string{"giulia.ferrari@officinebrianza.example", "hr@officinebrianza.example"}},
	{uuid.MustParse("0d000000-0000-4000-8000-0000000005a2"), OrgCompanyA, "Uffici di Merate", "Via Roma 5", "097048",
		[]string{"luca.galli@officinebrianza.example"}},
	{uuid.MustParse("0d000000-0000-4000-8000-0000000005b1"), OrgCompanyB, "Studio di Monza", "Via Italia 20", "108033",
		[]string{"andrea.russo@studioverdi.example", "hr@studioverdi.example"}},
}

// loadSites records the demo sites; the people of a site are placed there
// only when the site is new, so a later seed never undoes their choice.
func loadSites(ctx context.Context, tx *sqlx.Tx) error {
	for _, s := range demoSites {
		res, err := tx.ExecContext(ctx, `INSERT INTO company_sites (id, organisation_id, name, address, place_code)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, s.id, s.org, s.name, s.address, s.place)
		if err != nil {
			return fmt.Errorf("site %s: %w", s.name, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET site_id = $1 WHERE email = ANY($2)`, s.id, pq.Array(s.people)); err != nil {
			return fmt.Errorf("people of site %s: %w", s.name, err)
		}
	}
	return nil
}
