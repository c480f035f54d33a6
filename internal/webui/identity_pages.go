package webui

import (
	"cmp"
	"encoding/base64"
	"html/template"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/identity"
	"github.com/reciproca/reciproca/internal/mail"
)

// tokenForm is the page behind a mailed one-time link.
type tokenForm struct {
	Token  string
	Info   *identity.InvitationInfo
	Name   string
	Error  string      // above the form: a refusal about no field
	Errors fieldErrors // next to the fields, every one at fault
	Done   bool
	Dead   bool // the link is unknown, used or expired
	Notice string
}

func (u *UI) invitePage(c echo.Context) error {
	f := tokenForm{Token: c.QueryParam("token")}
	info, err := u.deps.Identity.Invitation(c.Request().Context(), f.Token)
	if apperr.CodeOf(err) == apperr.NotFound {
		f.Dead = true
		return u.r.render(c, http.StatusNotFound, "invite", u.page(c, f))
	}
	if err != nil {
		return err
	}
	f.Info, f.Name = info, info.Name
	return u.r.render(c, http.StatusOK, "invite", u.page(c, f))
}

func (u *UI) acceptInvite(c echo.Context) error {
	ctx := c.Request().Context()
	f := tokenForm{Token: c.FormValue("token"), Name: c.FormValue("name")}
	password := c.FormValue("password")
	if password != c.FormValue("password2") {
		info, err := u.deps.Identity.Invitation(ctx, f.Token)
		if err != nil && apperr.CodeOf(err) != apperr.NotFound {
			return err
		}
		f.Info, f.Dead = info, info == nil
		if info != nil {
			// The other mistakes too, at once: nothing is spent.
			name := cmp.Or(strings.TrimSpace(f.Name), info.Name)
			f.Errors = u.fieldErrors(lang(c), identity.CheckNewAccount(name, password, info.Email))
		}
		f.Errors = f.Errors.add("password2", u.cat.T(lang(c), "form.invalid.password_mismatch"))
		return u.r.render(c, http.StatusBadRequest, "invite", u.page(c, f))
	}
	_, err := u.deps.Identity.AcceptInvitation(ctx, f.Token, f.Name, password)
	if err != nil {
		status, msg, ferr := u.formError(c, err)
		if ferr != nil {
			return ferr
		}
		info, _ := u.deps.Identity.Invitation(ctx, f.Token)
		f.Info, f.Dead = info, info == nil
		if f.Errors = u.fieldErrors(lang(c), err); len(f.Errors) == 0 {
			f.Error = msg
		}
		return u.r.render(c, status, "invite", u.page(c, f))
	}
	return c.Redirect(http.StatusSeeOther, "/login?welcome=1")
}

func (u *UI) forgotPage(c echo.Context) error {
	return u.r.render(c, http.StatusOK, "password_forgot", u.page(c, tokenForm{}))
}

// forgot always answers the same, whether the address has an account.
func (u *UI) forgot(c echo.Context) error {
	if err := u.deps.Identity.RequestPasswordReset(c.Request().Context(), c.FormValue("email")); err != nil {
		return err
	}
	return u.r.render(c, http.StatusOK, "password_forgot", u.page(c, tokenForm{Done: true}))
}

func (u *UI) resetPage(c echo.Context) error {
	return u.r.render(c, http.StatusOK, "password_reset", u.page(c, tokenForm{Token: c.QueryParam("token")}))
}

func (u *UI) reset(c echo.Context) error {
	f := tokenForm{Token: c.FormValue("token")}
	password := c.FormValue("password")
	if password != c.FormValue("password2") {
		f.Errors = u.fieldErrors(lang(c), identity.CheckNewPassword(password, "")).
			add("password2", u.cat.T(lang(c), "form.invalid.password_mismatch"))
		return u.r.render(c, http.StatusBadRequest, "password_reset", u.page(c, f))
	}
	if err := u.deps.Identity.ResetPassword(c.Request().Context(), f.Token, password); err != nil {
		status, msg, ferr := u.formError(c, err)
		if ferr != nil {
			return ferr
		}
		f.Dead = status == http.StatusNotFound
		if f.Errors = u.fieldErrors(lang(c), err); len(f.Errors) == 0 {
			f.Error = msg
		}
		return u.r.render(c, status, "password_reset", u.page(c, f))
	}
	return c.Redirect(http.StatusSeeOther, "/login?reset=1")
}

// totpPage is the second-factor setup page.
type totpPage struct {
	Enabled  bool
	Required bool
	Setup    *identity.TOTPSetup
	QR       template.URL // data: URI of the QR code (built here, trusted)
	Codes    []string
	Error    string
}

func (u *UI) totpPage(c echo.Context) error {
	return u.renderTOTP(c, http.StatusOK, totpPage{})
}

func (u *UI) renderTOTP(c echo.Context, status int, data totpPage) error {
	p := CurrentPrincipal(c)
	data.Required = p.NeedsSecondFactor()
	setup, err := u.deps.Identity.BeginTOTP(c.Request().Context(), p)
	switch {
	case apperr.CodeOf(err) == apperr.Conflict:
		data.Enabled = true
	case err != nil:
		return err
	default:
		data.Setup = setup
		if len(setup.QRPNG) > 0 {
			data.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(setup.QRPNG))
		}
	}
	return u.r.render(c, status, "totp", u.page(c, data))
}

func (u *UI) totpConfirm(c echo.Context) error {
	codes, err := u.deps.Identity.ConfirmTOTP(c.Request().Context(), CurrentPrincipal(c), c.FormValue("code"))
	if err != nil {
		status, msg, err := u.formError(c, err)
		if err != nil {
			return err
		}
		return u.renderTOTP(c, status, totpPage{Error: msg})
	}
	return u.r.render(c, http.StatusOK, "totp", u.page(c, totpPage{Enabled: true, Codes: codes, Required: CurrentPrincipal(c).NeedsSecondFactor()}))
}

// usersPage is the admin's list of their organisation's people or, for a
// platform admin, the page of one organisation (Org set), each with the
// form to invite someone.
type usersPage struct {
	Org         *identity.Organisation // nil: the admin's own organisation
	Users       []identity.User
	Roles       []auth.Role // the roles of this organisation's kind
	DefaultRole auth.Role   // preselected in the form
	Error       string      // above the forms: a refusal about no field
	Errors      fieldErrors // next to the invite form's fields
	Invited     string
	FormEmail   string
	FormName    string
	FormRole    auth.Role
	FormSite    string
	// Sites are the admin's company's sites, to say where the invited
	// person works (none: the form does not ask); SiteNames names them
	// by id for the list.
	Sites     []identity.Site
	SiteNames map[uuid.UUID]string
}

// SiteOf is the name of the site u works at, or "".
func (p usersPage) SiteOf(u identity.User) string {
	if u.SiteID == nil {
		return ""
	}
	return p.SiteNames[*u.SiteID]
}

func (u *UI) users(c echo.Context) error {
	return u.renderUsers(c, http.StatusOK, usersPage{Invited: c.QueryParam("invited")})
}

func (u *UI) renderUsers(c echo.Context, status int, data usersPage) error {
	p := CurrentPrincipal(c)
	orgID, kind := uuid.Nil, p.OrgKind
	if data.Org != nil {
		orgID, kind, data.DefaultRole = data.Org.ID, data.Org.Kind, kindAdminRole(data.Org.Kind)
	}
	users, err := u.deps.Identity.ListUsers(c.Request().Context(), p, orgID)
	if err != nil {
		return err
	}
	data.Users, data.Roles = users, auth.KindRoles[kind]
	if data.Org == nil {
		if data.Sites, err = u.deps.Identity.Sites(c.Request().Context(), p); err != nil {
			return err
		}
		data.SiteNames = map[uuid.UUID]string{}
		for _, s := range data.Sites {
			data.SiteNames[s.ID] = s.Name
		}
	}
	if data.FormRole != "" {
		data.DefaultRole = data.FormRole
	}
	return u.r.render(c, status, "users", u.page(c, data))
}

func (u *UI) inviteUser(c echo.Context) error {
	return u.invite(c, usersPage{}, "/users?invited=1")
}

// invite sends the invite form of a users page (data.Org: which one) and
// goes to done, or shows the page again with the error and the form kept.
func (u *UI) invite(c echo.Context, data usersPage, done string) error {
	in := identity.Invitation{Email: c.FormValue("email"), Name: c.FormValue("name"), Roles: []auth.Role{auth.Role(c.FormValue("role"))},
		Site: c.FormValue("site")}
	if data.Org != nil {
		in.OrgID = data.Org.ID
	}
	err := untilSettled(c.Request().Context(), func() error {
		_, err := u.deps.Identity.Invite(c.Request().Context(), CurrentPrincipal(c), in, c.FormValue(formKeyField))
		return err
	})
	if err != nil {
		status, msg, ferr := u.formError(c, err)
		if ferr != nil {
			return ferr
		}
		data.FormEmail, data.FormName, data.FormRole, data.FormSite = in.Email, in.Name, in.Roles[0], in.Site
		if data.Errors = u.fieldErrors(lang(c), err); len(data.Errors) == 0 {
			data.Error = msg
		}
		return u.renderUsers(c, status, data)
	}
	return c.Redirect(http.StatusSeeOther, done)
}

func (u *UI) importUsers(c echo.Context) error {
	fh, err := c.FormFile("file")
	if err != nil {
		return u.renderUsers(c, http.StatusBadRequest, usersPage{Error: u.cat.T(lang(c), "form.invalid.file")})
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, 4<<20+1))
	if err != nil {
		return err
	}
	var id uuid.UUID
	err = untilSettled(c.Request().Context(), func() (err error) {
		id, err = u.deps.Identity.StartImport(c.Request().Context(), CurrentPrincipal(c), raw, c.FormValue(formKeyField))
		return err
	})
	if err != nil {
		status, msg, err := u.formError(c, err)
		if err != nil {
			return err
		}
		return u.renderUsers(c, status, usersPage{Error: msg})
	}
	return c.Redirect(http.StatusSeeOther, "/users/import/"+id.String())
}

func (u *UI) importStatus(c echo.Context) error {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return apperr.New(apperr.NotFound, "no such import")
	}
	im, err := u.deps.Identity.Import(c.Request().Context(), CurrentPrincipal(c), id)
	if err != nil {
		return err
	}
	if im.Status == "running" {
		c.Response().Header().Set("Refresh", "1")
	}
	v := importView{Import: im}
	l := lang(c)
	for _, e := range im.Errors {
		v.Problems = append(v.Problems, u.rowProblem(l, e))
	}
	return u.r.render(c, http.StatusOK, "users_import", u.page(c, v))
}

// importView is an import with its row problems in the reader's language.
type importView struct {
	*identity.Import
	Problems []rowProblem
}

// rowProblem is a row error as the import page shows it.
type rowProblem struct {
	Row            int
	Field, Problem string
}

// rowProblem says err in lang: the column by its name in lang (a column
// the import does not know, by its heading) and the problem by its
// reason; an error recorded before reasons existed keeps its message.
func (u *UI) rowProblem(lang string, e identity.RowError) rowProblem {
	p := rowProblem{Row: e.Row, Field: e.Field, Problem: e.Message}
	if k := "identity.csv.column." + e.Field; u.cat.T(lang, k) != k {
		p.Field = u.cat.T(lang, k)
	}
	if e.Reason == "" {
		return p
	}
	value := e.Value
	if e.Reason == "role_kind" || e.Reason == "role_twice" {
		value = u.cat.T(lang, "identity.role."+value)
	}
	if k := "identity.csv.reason." + e.Reason; u.cat.T(lang, k) != k {
		p.Problem = strings.ReplaceAll(u.cat.T(lang, k), "{value}", value)
	}
	return p
}

// userPage is one user, for their organisation's admin.
type userPage struct {
	User  *identity.User
	Roles []auth.Role
	Error string
	Self  bool
	Site  *sitePicker // where they work, when the organisation records sites
}

func (u *UI) user(c echo.Context) error {
	return u.renderUser(c, http.StatusOK, "")
}

func (u *UI) renderUser(c echo.Context, status int, msg string) error {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return apperr.New(apperr.NotFound, "no such user")
	}
	p := CurrentPrincipal(c)
	usr, err := u.deps.Identity.GetUser(c.Request().Context(), p, id)
	if err != nil {
		return err
	}
	site, err := u.sitePickerFor(c, usr.ID, "/users/"+usr.ID.String()+"/sede")
	if err != nil {
		return err
	}
	return u.r.render(c, status, "user", u.page(c, userPage{User: usr, Roles: auth.KindRoles[usr.OrgKind], Error: msg, Self: usr.ID == p.UserID, Site: site}))
}

func (u *UI) updateUser(c echo.Context, up identity.UserUpdate) error {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return apperr.New(apperr.NotFound, "no such user")
	}
	if _, err := u.deps.Identity.UpdateUser(c.Request().Context(), CurrentPrincipal(c), id, up); err != nil {
		if apperr.CodeOf(err) == apperr.NotFound {
			return err // not this organisation's user: the 404 page
		}
		status, msg, ferr := u.formError(c, err)
		if ferr != nil {
			return ferr
		}
		return u.renderUser(c, status, msg)
	}
	return c.Redirect(http.StatusSeeOther, "/users/"+id.String())
}

func (u *UI) updateRoles(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return apperr.New(apperr.Invalid, "malformed form")
	}
	roles := []auth.Role{}
	for _, r := range form["roles"] {
		roles = append(roles, auth.Role(r))
	}
	return u.updateUser(c, identity.UserUpdate{Roles: roles})
}

func (u *UI) updateStatus(c echo.Context) error {
	st := c.FormValue("status")
	return u.updateUser(c, identity.UserUpdate{Status: &st})
}

func (u *UI) auditLog(c echo.Context) error {
	entries, err := u.deps.Identity.AuditLog(c.Request().Context(), CurrentPrincipal(c), 200, 0)
	if err != nil {
		return err
	}
	return u.r.render(c, http.StatusOK, "audit", u.page(c, u.auditRows(lang(c), entries)))
}

// orgsPage lists the organisations for platform admins.
type orgsPage struct {
	Orgs   []identity.Organisation
	Kinds  []auth.OrgKind
	Error  string      // above the form: a refusal about no field
	Errors fieldErrors // next to the new organisation's fields
	Form   identity.NewOrganisation
}

func (u *UI) organisations(c echo.Context) error {
	return u.renderOrgs(c, http.StatusOK, orgsPage{})
}

func (u *UI) renderOrgs(c echo.Context, status int, data orgsPage) error {
	orgs, err := u.deps.Identity.ListOrganisations(c.Request().Context(), CurrentPrincipal(c))
	if err != nil {
		return err
	}
	data.Orgs, data.Kinds = orgs, auth.OrgKinds()
	return u.r.render(c, status, "organisations", u.page(c, data))
}

func (u *UI) createOrganisation(c echo.Context) error {
	var o *identity.Organisation
	in := identity.NewOrganisation{Kind: auth.OrgKind(c.FormValue("kind")), Name: c.FormValue("name")}
	err := untilSettled(c.Request().Context(), func() (err error) {
		o, err = u.deps.Identity.CreateOrganisation(c.Request().Context(), CurrentPrincipal(c), in, c.FormValue(formKeyField))
		return err
	})
	if err != nil {
		status, msg, ferr := u.formError(c, err)
		if ferr != nil {
			return ferr
		}
		data := orgsPage{Form: in, Errors: u.fieldErrors(lang(c), err)}
		if len(data.Errors) == 0 {
			data.Error = msg
		}
		return u.renderOrgs(c, status, data)
	}
	// Straight to the new organisation, whose first administrator is the
	// next thing to invite.
	return c.Redirect(http.StatusSeeOther, "/admin/organisations/"+o.ID.String())
}

// organisation is the page of one organisation for platform admins: its
// people and the form to invite someone into it (its first administrator,
// typically).
func (u *UI) organisation(c echo.Context) error {
	o, err := u.orgOf(c)
	if err != nil {
		return err
	}
	return u.renderUsers(c, http.StatusOK, usersPage{Org: o, Invited: c.QueryParam("invited")})
}

// orgOf reads the organisation of the page's :id. Errors: not_found.
func (u *UI) orgOf(c echo.Context) (*identity.Organisation, error) {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return nil, apperr.New(apperr.NotFound, "no such organisation")
	}
	return u.deps.Identity.GetOrganisation(c.Request().Context(), CurrentPrincipal(c), id)
}

// kindAdminRole is the role among identity.AdminRoles that an organisation
// of kind can hold.
func kindAdminRole(kind auth.OrgKind) auth.Role {
	for _, r := range auth.KindRoles[kind] {
		if slices.Contains(auth.AdminRoles, r) {
			return r
		}
	}
	return ""
}

func (u *UI) inviteIntoOrganisation(c echo.Context) error {
	o, err := u.orgOf(c)
	if err != nil {
		return err
	}
	return u.invite(c, usersPage{Org: o}, "/admin/organisations/"+o.ID.String()+"?invited=1")
}

// devMail lists the outbox (development only) so links can be followed.
func (u *UI) devMail(c echo.Context) error {
	mails, err := mail.Recent(c.Request().Context(), u.deps.DB, 50)
	if err != nil {
		return err
	}
	views := make([]mailView, len(mails))
	for i, m := range mails {
		views[i] = mailView{Stored: m, Parts: linkify(m.Body)}
	}
	return u.r.render(c, http.StatusOK, "dev_mail", u.page(c, views))
}

// mailView is a mail with its links made clickable.
type mailView struct {
	mail.Stored
	Parts []textPart
}

// textPart is plain text, or a link when URL is set.
type textPart struct {
	Text string
	URL  string
}

// linkify splits text into plain parts and http(s) links (to this site's
// pages, followed by people running the app in development).
func linkify(text string) []textPart {
	var out []textPart
	for text != "" {
		i := strings.Index(text, "http://")
		if j := strings.Index(text, "https://"); j >= 0 && (i < 0 || j < i) {
			i = j
		}
		if i < 0 {
			out = append(out, textPart{Text: text})
			break
		}
		if i > 0 {
			out = append(out, textPart{Text: text[:i]})
		}
		end := strings.IndexAny(text[i:], " \n\t")
		if end < 0 {
			end = len(text) - i
		}
		link := text[i : i+end]
		out = append(out, textPart{Text: link, URL: link})
		text = text[i+end:]
	}
	return out
}
