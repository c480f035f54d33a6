package webui

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/catalog"
)

// The inclusion label pages: the provider asks for it with evidence, the
// platform admin decides in the approval queue (admin_providers), and the
// admin reads the log of changes to visible offerings.

func (u *UI) registerLabels(e *echo.Echo) {
	staff := Roles(auth.RoleProviderStaff)
	u.Handle(e, http.MethodGet, "/erogatore/etichetta", staff, u.labelForm)
	u.Handle(e, http.MethodPost, "/erogatore/etichetta", staff, u.labelRequest)
	admin := Roles(auth.RolePlatformAdmin)
	u.Handle(e, http.MethodPost, "/admin/etichette/:id", admin, u.adminLabelDecision)
	u.Handle(e, http.MethodGet, "/admin/modifiche", admin, u.adminOfferingChanges)
}

// labelView is a label request as the pages show it: pointers become
// plain values the templates can compare.
type labelView struct {
	catalog.LabelRequest
	Evidence   string // "" while a legacy label waits for evidence
	Albo       string
	Hires      int
	Staff      int
	Legacy     string
	ValidUntil *time.Time
}

func viewLabel(r *catalog.LabelRequest) *labelView {
	if r == nil {
		return nil
	}
	v := &labelView{LabelRequest: *r, ValidUntil: r.ValidUntil}
	if r.Evidence != nil {
		v.Evidence = string(*r.Evidence)
	}
	if r.AlboNumber != nil {
		v.Albo = *r.AlboNumber
	}
	if r.InclusionHires != nil {
		v.Hires = *r.InclusionHires
	}
	if r.TotalStaff != nil {
		v.Staff = *r.TotalStaff
	}
	if r.LegacyLabel != nil {
		v.Legacy = *r.LegacyLabel
	}
	return v
}

// labelPage is the provider's label page: what shows today, the latest
// request, and the form with what was typed.
type labelPage struct {
	Current, Latest *labelView
	Form            catalog.LabelInput
	LegalForm       catalog.LegalForm
	Field, Error    string // the field at fault and the message next to it
	Sent            bool
}

// ErrorAt is the message to show next to field, if it is the one at fault.
func (p labelPage) ErrorAt(field string) string {
	if p.Field == field {
		return p.Error
	}
	return ""
}

func (u *UI) labelForm(c echo.Context) error {
	return u.renderLabel(c, http.StatusOK, labelPage{Sent: c.QueryParam("inviata") == "1"})
}

// renderLabel fills in the provider's label state and renders the page.
func (u *UI) renderLabel(c echo.Context, status int, p labelPage) error {
	ctx := c.Request().Context()
	who := CurrentPrincipal(c)
	pr, err := u.deps.Catalog.Provider(ctx, who, who.OrgID)
	if apperr.Is(err, apperr.NotFound) {
		return c.Redirect(http.StatusSeeOther, "/erogatore/profilo")
	}
	if err != nil {
		return err
	}
	st, err := u.deps.Catalog.ProviderLabel(ctx, who, who.OrgID)
	if err != nil {
		return err
	}
	p.Current, p.Latest, p.LegalForm = viewLabel(st.Current), viewLabel(st.Latest), pr.LegalForm
	if p.Form.Evidence == "" {
		p.Form.Evidence = catalog.EvidenceSelfDeclaration
		if pr.LegalForm == catalog.FormSocialCooperative {
			p.Form.Evidence = catalog.EvidenceCoopB
		}
	}
	return u.r.render(c, status, "provider_label", u.page(c, p))
}

func (u *UI) labelRequest(c echo.Context) error {
	hires, _ := strconv.Atoi(c.FormValue("inclusion_hires"))
	staff, _ := strconv.Atoi(c.FormValue("total_staff"))
	in := catalog.LabelInput{Evidence: catalog.LabelEvidence(c.FormValue("evidence")), AlboNumber: c.FormValue("albo_number"),
		InclusionHires: hires, TotalStaff: staff, Declared: c.FormValue("declaration") == "1"}
	who := CurrentPrincipal(c)
	ctx := c.Request().Context()
	err := untilSettled(ctx, func() error {
		_, err := u.deps.Catalog.RequestLabel(ctx, who, who.OrgID, in, c.FormValue(formKeyField))
		return err
	})
	if formKeyMessage(err) != "" { // the form was sent before
		return u.renderLabel(c, http.StatusConflict, labelPage{Form: in, Error: u.formMessage(lang(c), err)})
	}
	if apperr.Is(err, apperr.Invalid) {
		return u.renderLabel(c, http.StatusUnprocessableEntity, labelPage{Form: in, Field: apperr.FieldOf(err),
			Error: u.formMessage(lang(c), err)})
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/erogatore/etichetta?inviata=1")
}

// approvalQueue is the platform admin's review page: providers waiting
// for approval and inclusion label requests, side by side. A refused
// decision shows the page again with the message next to the field.
type approvalQueue struct {
	Pending []catalog.Provider
	Labels  []labelView
	Done    string // message key
	// DefaultUntil is the expiry the approval form proposes (a year).
	DefaultUntil string
	// Failed is the form a decision was refused on ("provider-<id>" or
	// "label-<id>"), with the field at fault, the message and what was typed.
	Failed, Field, Error, Note, Until string
}

// ErrorAt is the message to show next to field of form, if it failed there.
func (q approvalQueue) ErrorAt(form, field string) string {
	if q.Failed == form && q.Field == field {
		return q.Error
	}
	return ""
}

// CardError is the message of a refusal on form not about one of its
// fields (a request without evidence, one already decided).
func (q approvalQueue) CardError(form string) string {
	if q.Failed == form && q.Field != "note" && q.Field != "valid_until" {
		return q.Error
	}
	return ""
}

// Typed returns what was typed in field of form when it failed, else def.
func (q approvalQueue) Typed(form, field, def string) string {
	if q.Failed != form {
		return def
	}
	if field == "note" {
		return q.Note
	}
	return q.Until
}

func (u *UI) adminProviders(c echo.Context) error {
	q := approvalQueue{}
	switch c.QueryParam("fatto") {
	case "approve":
		q.Done = "catalog.admin.approved"
	case "reject":
		q.Done = "catalog.admin.rejected"
	case "label-approve":
		q.Done = "catalog.labels.admin.approved"
	case "label-reject":
		q.Done = "catalog.labels.admin.rejected"
	}
	return u.renderQueue(c, http.StatusOK, q)
}

func (u *UI) renderQueue(c echo.Context, status int, q approvalQueue) error {
	ctx := c.Request().Context()
	who := CurrentPrincipal(c)
	var err error
	if q.Pending, err = u.deps.Catalog.Providers(ctx, who, catalog.ProviderPending); err != nil {
		return err
	}
	labels, err := u.deps.Catalog.LabelRequests(ctx, who, catalog.LabelPending)
	if err != nil {
		return err
	}
	for i := range labels {
		q.Labels = append(q.Labels, *viewLabel(&labels[i]))
	}
	q.DefaultUntil = time.Now().In(italianTime).AddDate(1, 0, 0).Format(time.DateOnly)
	return u.r.render(c, status, "admin_providers", u.page(c, q))
}

// refused shows the queue again with err next to the field of form, when
// err is the person's mistake (invalid, or a decision made meanwhile).
func (u *UI) refused(c echo.Context, form string, err error) error {
	if !apperr.Is(err, apperr.Invalid) && !apperr.Is(err, apperr.Conflict) {
		return err
	}
	q := approvalQueue{Failed: form, Field: apperr.FieldOf(err), Error: u.formMessage(lang(c), err),
		Note: c.FormValue("note"), Until: c.FormValue("valid_until")}
	return u.renderQueue(c, http.StatusUnprocessableEntity, q)
}

func (u *UI) adminReview(c echo.Context) error {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return apperr.New(apperr.NotFound, "provider not found")
	}
	decision := c.FormValue("decision")
	if decision != "approve" && decision != "reject" {
		return apperr.New(apperr.Invalid, "decision must be approve or reject")
	}
	_, err = u.deps.Catalog.ReviewProvider(c.Request().Context(), CurrentPrincipal(c), id, decision == "approve", c.FormValue("note"))
	if err != nil {
		return u.refused(c, "provider-"+id.String(), err)
	}
	return c.Redirect(http.StatusSeeOther, "/admin/erogatori?fatto="+url.QueryEscape(decision))
}

func (u *UI) adminLabelDecision(c echo.Context) error {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return apperr.New(apperr.NotFound, "label request not found")
	}
	decision := c.FormValue("decision")
	if decision != "approve" && decision != "reject" {
		return apperr.New(apperr.Invalid, "decision must be approve or reject")
	}
	d := catalog.LabelDecision{Approve: decision == "approve", Note: c.FormValue("note")}
	if d.Approve {
		// An unreadable date is left zero: the service names the field.
		d.ValidUntil, _ = time.Parse(time.DateOnly, c.FormValue("valid_until"))
	}
	ctx := c.Request().Context()
	err = untilSettled(ctx, func() error {
		_, err := u.deps.Catalog.DecideLabel(ctx, CurrentPrincipal(c), id, d, c.FormValue(formKeyField))
		return err
	})
	if err != nil {
		return u.refused(c, "label-"+id.String(), err)
	}
	return c.Redirect(http.StatusSeeOther, "/admin/erogatori?fatto=label-"+decision)
}

// changesPage is the log of changes to visible offerings, a page at a time.
type changesPage struct {
	Changes []catalog.OfferingChange
	NextURL string
}

func (u *UI) adminOfferingChanges(c echo.Context) error {
	before, _ := strconv.ParseInt(c.QueryParam("prima"), 10, 64)
	const pageSize = 50
	list, err := u.deps.Catalog.OfferingChanges(c.Request().Context(), CurrentPrincipal(c), pageSize, before)
	if err != nil {
		return err
	}
	p := changesPage{Changes: list}
	if len(list) == pageSize {
		p.NextURL = "/admin/modifiche?prima=" + strconv.FormatInt(list[len(list)-1].ID, 10)
	}
	return u.r.render(c, http.StatusOK, "admin_changes", u.page(c, p))
}
