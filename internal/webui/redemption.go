package webui

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/catalog"
	"github.com/reciproca/reciproca/internal/plans"
	"github.com/reciproca/reciproca/internal/redemption"
)

// registerRedemption mounts booking and vouchers: the employee books from
// an offering, sees and cancels vouchers; the provider validates (the QR
// link lands on the validation page) and works through the day's bookings.
func (u *UI) registerRedemption(e *echo.Echo) {
	if u.deps.Redemption == nil || u.deps.Catalog == nil {
		return
	}
	emp := Roles(auth.RoleEmployee)
	u.Handle(e, http.MethodGet, "/catalogo/:id/prenota", emp, u.bookForm)
	u.Handle(e, http.MethodPost, "/catalogo/:id/prenota", emp, u.bookSave)
	u.Handle(e, http.MethodGet, "/buoni", emp, u.myVouchers)
	u.Handle(e, http.MethodGet, "/buoni/:id", Roles(auth.RoleEmployee, auth.RoleProviderStaff, auth.RolePlatformAdmin), u.voucherPage)
	u.Handle(e, http.MethodPost, "/buoni/:id/annulla", emp, u.voucherCancel)
	staff := Roles(auth.RoleProviderStaff)
	u.Handle(e, http.MethodGet, redemption.ValidatePath, staff, u.validateForm)
	u.Handle(e, http.MethodPost, redemption.ValidatePath, staff, u.validateSave)
	u.Handle(e, http.MethodGet, redemption.ProviderDayPath, staff, u.providerDay)
	u.Handle(e, http.MethodPost, redemption.ProviderDayPath+"/:id/no-show", staff, u.dayAction)
	u.Handle(e, http.MethodPost, redemption.ProviderDayPath+"/:id/annulla", staff, u.dayAction)
	u.Handle(e, http.MethodPost, redemption.ProviderDayPath+"/:id/rimborso", staff, u.dayAction)
	u.Handle(e, http.MethodPost, "/erogatore/turni/:id/annulla", staff, u.dayAction)
	u.registerPayouts(e)
}

// redemptionMessage is a refusal in the reader's language: the voucher's
// own reasons (full slot, already validated …) first, then the form's
// field messages, then the generic text of the code.
func (u *UI) redemptionMessage(lang string, err error) string {
	var ae *apperr.Error
	if !errors.As(err, &ae) {
		return u.formMessage(lang, err)
	}
	switch r := reasonOf(err); {
	case ae.Code == apperr.InsufficientFunds:
		avail, _ := ae.Fields["available"].(int64)
		return u.cat.T(lang, "redemption.error.insufficient") + " " + formatEuro(avail, lang) + "."
	case r == "fringe_ceiling":
		room, _ := ae.Fields["remaining_cents"].(int64)
		return u.cat.T(lang, "redemption.error.fringe_ceiling") + " " + formatEuro(room, lang) + "."
	case r == "already_validated":
		if at, ok := ae.Fields["validated_at"].(*time.Time); ok && at != nil {
			return u.cat.T(lang, "redemption.error.already_validated") + " " + formatTime(at, dateLayout(lang)+" 15:04") + "."
		}
	case r == "too_early":
		if at, ok := ae.Fields["validate_from"].(time.Time); ok {
			return u.cat.T(lang, "redemption.error.too_early") + " " + formatTime(at, dateLayout(lang)) + "."
		}
	case r != "":
		if k := "redemption.error." + r; u.cat.T(lang, k) != k {
			return u.cat.T(lang, k)
		}
	case ae.Code == apperr.NotFound:
		return u.cat.T(lang, "redemption.error.not_found")
	}
	if f := apperr.FieldOf(err); f != "" && ae.Code == apperr.Invalid {
		if k := "redemption.form." + f; u.cat.T(lang, k) != k {
			return u.cat.T(lang, k)
		}
	}
	return u.formMessage(lang, err)
}

// shownRefusal reports whether err is a refusal a page shows next to its
// form (anything a person can act on), rather than an error page.
func shownRefusal(err error) bool {
	switch apperr.CodeOf(err) {
	case apperr.Invalid, apperr.Conflict, apperr.InsufficientFunds:
		return true
	}
	return false
}

// bookingPage is the booking page: the offering, its slots with the
// places left, what the employee can spend on its category.
type bookingPage struct {
	catalog.Offering
	Places    []placeLeft
	Spendable int64
	// Fringe is the employee's fringe-benefit room this year when the
	// offering's category counts on it (nil otherwise).
	Fringe *plans.FringeRoom
	Error  string
}

type placeLeft struct {
	StartsAt, EndsAt time.Time
	Left             int
}

func (u *UI) bookingPage(c echo.Context, status int, errMsg string) error {
	ctx := c.Request().Context()
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return apperr.New(apperr.NotFound, "offering not found")
	}
	o, err := u.deps.Catalog.Offering(ctx, id)
	if err != nil {
		return err
	}
	p := bookingPage{Offering: o, Error: errMsg}
	left, err := u.deps.Redemption.PlacesLeft(ctx, o.ID)
	if err != nil {
		return err
	}
	for _, s := range o.Slots {
		if n, ok := left[s.ID]; ok {
			p.Places = append(p.Places, placeLeft{StartsAt: s.StartsAt, EndsAt: s.EndsAt, Left: n})
		}
	}
	if p.Spendable, err = u.deps.Redemption.Spendable(ctx, CurrentPrincipal(c).UserID, o.Category); err != nil {
		return err
	}
	if p.Fringe, err = u.deps.Redemption.FringeRoomFor(ctx, CurrentPrincipal(c).UserID, o.Category); err != nil {
		return err
	}
	return u.r.render(c, status, "redemption_book", u.page(c, p))
}

func (u *UI) bookForm(c echo.Context) error { return u.bookingPage(c, http.StatusOK, "") }

func (u *UI) bookSave(c echo.Context) error {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return apperr.New(apperr.NotFound, "offering not found")
	}
	in := redemption.BookInput{OfferingID: id}
	in.Quantity, _ = strconv.Atoi(c.FormValue("quantity"))
	if s := c.FormValue("slot_id"); s != "" {
		slot, err := uuid.Parse(s)
		if err != nil {
			return u.bookingPage(c, http.StatusUnprocessableEntity, u.cat.T(lang(c), "redemption.form.slot_id"))
		}
		in.SlotID = &slot
	}
	var v redemption.Voucher
	err = untilSettled(c.Request().Context(), func() (err error) {
		v, err = u.deps.Redemption.Book(c.Request().Context(), CurrentPrincipal(c), in, c.FormValue(formKeyField))
		return err
	})
	if shownRefusal(err) {
		return u.bookingPage(c, http.StatusUnprocessableEntity, u.redemptionMessage(lang(c), err))
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, redemption.VoucherPath(v)+"?prenotato=1")
}

func (u *UI) myVouchers(c echo.Context) error {
	status := redemption.Status(c.QueryParam("stato"))
	valid := status == ""
	for _, s := range redemption.Statuses() {
		valid = valid || s == status
	}
	if !valid {
		status = ""
	}
	list, err := u.deps.Redemption.MyVouchers(c.Request().Context(), CurrentPrincipal(c), status, 200)
	if err != nil {
		return err
	}
	return u.r.render(c, http.StatusOK, "voucher_list", u.page(c, struct {
		Status   redemption.Status
		Statuses []redemption.Status
		Vouchers []redemption.Voucher
	}{status, redemption.Statuses(), list}))
}

// voucherView is the voucher page.
type voucherView struct {
	V         redemption.Voucher
	QR        template.HTML
	LastDay   time.Time // the last day it can be validated
	CanCancel bool
	Notice    string
	Error     string
}

func (u *UI) voucherPage(c echo.Context) error { return u.renderVoucher(c, http.StatusOK, "") }

func (u *UI) renderVoucher(c echo.Context, status int, errMsg string) error {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return apperr.New(apperr.NotFound, "voucher not found")
	}
	p := CurrentPrincipal(c)
	v, err := u.deps.Redemption.Voucher(c.Request().Context(), p, id)
	if err != nil {
		return err
	}
	view := voucherView{V: v, LastDay: v.ValidateUntil.Add(-time.Second), Error: errMsg,
		CanCancel: p.UserID == v.EmployeeID && v.CanCancelAt(time.Now())}
	if v.Status == redemption.Booked {
		if view.QR, err = redemption.QRSVG(u.deps.Redemption.ValidationURL(v), u.cat.T(lang(c), "redemption.voucher.qr")); err != nil {
			return err
		}
	}
	switch {
	case c.QueryParam("prenotato") == "1":
		view.Notice = "redemption.voucher.booked_notice"
	case c.QueryParam("annullato") == "1":
		view.Notice = "redemption.voucher.cancelled_notice"
	}
	return u.r.render(c, status, "voucher_page", u.page(c, view))
}

func (u *UI) voucherCancel(c echo.Context) error {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return apperr.New(apperr.NotFound, "voucher not found")
	}
	_, err = u.deps.Redemption.Cancel(c.Request().Context(), CurrentPrincipal(c), id, "")
	if shownRefusal(err) {
		return u.renderVoucher(c, http.StatusConflict, u.redemptionMessage(lang(c), err))
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/buoni/"+id.String()+"?annullato=1")
}

// validatePage is the provider's validation page: a code to type, the
// voucher it names waiting for confirmation, or the validated voucher.
type validatePage struct {
	Code  string
	Found *redemption.Voucher
	Done  *redemption.Voucher
	Error string
}

// validateForm shows the code field, or, with a code (typed, or from the
// QR link), the voucher for the provider to confirm: opening a link never
// validates by itself.
func (u *UI) validateForm(c echo.Context) error {
	page := validatePage{Code: c.QueryParam("codice")}
	status := http.StatusOK
	if page.Code != "" {
		v, err := u.deps.Redemption.FindForProvider(c.Request().Context(), CurrentPrincipal(c), page.Code)
		switch {
		case err == nil && v.Status != redemption.Booked:
			page.Error = u.redemptionMessage(lang(c), redemption.UsableError(v, time.Now()))
		case err == nil:
			page.Found = &v
		case shownRefusal(err) || apperr.Is(err, apperr.NotFound):
			page.Error, status = u.redemptionMessage(lang(c), err), http.StatusUnprocessableEntity
		default:
			return err
		}
	}
	return u.r.render(c, status, "redemption_validate", u.page(c, page))
}

func (u *UI) validateSave(c echo.Context) error {
	page := validatePage{Code: c.FormValue("codice")}
	v, err := u.deps.Redemption.Validate(c.Request().Context(), CurrentPrincipal(c), page.Code)
	switch {
	case err == nil:
		page.Done = &v
	case shownRefusal(err) || apperr.Is(err, apperr.NotFound):
		page.Error = u.redemptionMessage(lang(c), err)
		return u.r.render(c, http.StatusConflict, "redemption_validate", u.page(c, page))
	default:
		return err
	}
	return u.r.render(c, http.StatusOK, "redemption_validate", u.page(c, page))
}

// slotGroup is one slot of the day (or the vouchers without a slot).
type slotGroup struct {
	SlotID   *uuid.UUID
	StartsAt *time.Time
	Title    string
	Booked   bool
	Vouchers []dayVoucher
}

type dayVoucher struct {
	redemption.Voucher
	Refundable bool
}

func (u *UI) providerDay(c echo.Context) error {
	notice := ""
	switch c.QueryParam("fatto") {
	case "1":
		notice = "redemption.day.saved"
	case "turno":
		notice = "redemption.day.cancelled_slot"
	}
	return u.renderDay(c, http.StatusOK, notice, "")
}

func (u *UI) renderDay(c echo.Context, status int, notice, errMsg string) error {
	day, err := u.deps.Redemption.Day(c.QueryParam("giorno"))
	if err != nil {
		if day, err = u.deps.Redemption.Day(c.FormValue("giorno")); err != nil {
			day, _ = u.deps.Redemption.Day("")
		}
	}
	list, err := u.deps.Redemption.ProviderDay(c.Request().Context(), CurrentPrincipal(c), day)
	if err != nil {
		return err
	}
	var groups []*slotGroup
	bySlot := map[string]*slotGroup{}
	for _, v := range list {
		key := v.OfferingID.String()
		if v.SlotID != nil {
			key = v.SlotID.String()
		}
		g := bySlot[key]
		if g == nil {
			g = &slotGroup{SlotID: v.SlotID, StartsAt: v.StartsAt, Title: v.OfferingTitle}
			bySlot[key] = g
			groups = append(groups, g)
		}
		g.Booked = g.Booked || v.Status == redemption.Booked
		g.Vouchers = append(g.Vouchers, dayVoucher{Voucher: v, Refundable: v.Refundable() > 0})
	}
	return u.r.render(c, status, "redemption_day", u.page(c, struct {
		Day, Prev, Next time.Time
		Groups          []*slotGroup
		Notice, Error   string
	}{day, day.AddDate(0, 0, -1), day.AddDate(0, 0, 1), groups, notice, errMsg}))
}

// dayAction runs one of the day page's forms (no-show, cancel a booking or
// a slot, refund) and shows the day again with the outcome.
func (u *UI) dayAction(c echo.Context) error {
	ctx, p := c.Request().Context(), CurrentPrincipal(c)
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return apperr.New(apperr.NotFound, "not found")
	}
	notice := "1"
	path := c.Path()
	switch {
	case path == redemption.ProviderDayPath+"/:id/no-show":
		_, err = u.deps.Redemption.NoShow(ctx, p, id, c.FormValue("note"))
	case path == redemption.ProviderDayPath+"/:id/annulla":
		_, err = u.deps.Redemption.Cancel(ctx, p, id, c.FormValue("reason"))
	case path == redemption.ProviderDayPath+"/:id/rimborso":
		var amount int64
		if amount, err = catalog.ParseEuro(c.FormValue("amount")); err != nil {
			err = apperr.New(apperr.Invalid, "the amount is not a sum in euro").With("field", "amount_cents")
		} else {
			err = untilSettled(ctx, func() error {
				_, err := u.deps.Redemption.Refund(ctx, p, id, redemption.RefundInput{AmountCents: amount, Reason: c.FormValue("reason")},
					c.FormValue(formKeyField))
				return err
			})
		}
	default:
		_, err = u.deps.Redemption.CancelSlot(ctx, p, id, c.FormValue("reason"))
		notice = "turno"
	}
	if shownRefusal(err) {
		return u.renderDay(c, http.StatusUnprocessableEntity, "", u.redemptionMessage(lang(c), err))
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, redemption.ProviderDayPath+"?giorno="+url.QueryEscape(c.FormValue("giorno"))+"&fatto="+notice)
}
