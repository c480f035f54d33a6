package webui

import (
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/csvfile"
	"github.com/reciproca/reciproca/internal/fund"
)

// The approvers' queue, the fund manager's payment batches, settings and
// access log, and the reports (dashboard, indicators) of the fund.

func (u *UI) registerFundManage(e *echo.Echo) {
	approvers := Roles(auth.RoleFundApprover)
	overview := Roles(auth.RoleFundManager, auth.RoleFundApprover)
	u.Handle(e, http.MethodGet, "/fondo/approvazioni", overview, u.fundQueue)
	u.Handle(e, http.MethodPost, "/fondo/interventi/:id/approva", approvers, u.fundApprove)
	u.Handle(e, http.MethodPost, "/fondo/interventi/:id/rifiuta", approvers, u.fundReject)
	u.Handle(e, http.MethodPost, "/fondo/interventi/:id/annulla", fundManagers, u.fundCancel)
	u.Handle(e, http.MethodGet, "/fondo/pagamenti", fundManagers, u.fundBatches)
	u.Handle(e, http.MethodPost, "/fondo/pagamenti", fundManagers, u.fundCreateBatch)
	u.Handle(e, http.MethodGet, "/fondo/pagamenti/:id", fundManagers, u.fundBatch)
	u.Handle(e, http.MethodGet, "/fondo/pagamenti/:id/file", fundManagers, u.fundBatchFile)
	u.Handle(e, http.MethodPost, "/fondo/pagamenti/:id/eseguito", fundManagers, u.fundExecuted)
	u.Handle(e, http.MethodPost, "/fondo/pagamenti/:id/righe/:line/reso", fundManagers, u.fundReturnLine)
	u.Handle(e, http.MethodGet, "/fondo/cruscotto", overview, u.fundDashboard)
	u.Handle(e, http.MethodGet, "/fondo/indicatori", overview, u.fundIndicators)
	u.Handle(e, http.MethodGet, "/fondo/registro-accessi", fundManagers, u.fundAccessLog)
	u.Handle(e, http.MethodGet, "/fondo/impostazioni", fundManagers, u.fundSettings)
	u.Handle(e, http.MethodPost, "/fondo/impostazioni", fundManagers, u.fundSaveSettings)
}

type queuePage struct {
	fundForm
	Queue    []fund.Intervention
	Approver bool
	Manager  bool
	Me       uuid.UUID
}

func (u *UI) fundQueue(c echo.Context) error {
	return u.renderFundQueue(c, http.StatusOK, fundForm{Done: doneKey(c)})
}

func (u *UI) renderFundQueue(c echo.Context, status int, f fundForm) error {
	p := CurrentPrincipal(c)
	q, err := u.deps.Fund.Queue(c.Request().Context(), p)
	if err != nil {
		return err
	}
	return u.r.render(c, status, "fund_queue", u.page(c, queuePage{fundForm: f, Queue: q,
		Approver: p.Has(auth.RoleFundApprover), Manager: p.Has(auth.RoleFundManager), Me: p.UserID}))
}

// decide runs an approver's or manager's decision on intervention :id and
// shows the queue again.
func (u *UI) decide(c echo.Context, form, doneKey string, do func(id uuid.UUID) error) error {
	id, err := uuid.Parse(c.Param("id"))
	if err == nil {
		err = do(id)
	} else {
		err = apperr.New(apperr.NotFound, "intervention not found")
	}
	if err != nil {
		f, status, ferr := u.fundRefused(c, form+"-"+c.Param("id"), err)
		if ferr != nil {
			return ferr
		}
		return u.renderFundQueue(c, status, f)
	}
	return done(c, "/fondo/approvazioni", doneKey)
}

func (u *UI) fundApprove(c echo.Context) error {
	return u.decide(c, "approve", "approved", func(id uuid.UUID) error {
		_, err := u.deps.Fund.Approve(c.Request().Context(), CurrentPrincipal(c), id)
		return err
	})
}

func (u *UI) fundReject(c echo.Context) error {
	return u.decide(c, "reject", "rejected", func(id uuid.UUID) error {
		_, err := u.deps.Fund.Reject(c.Request().Context(), CurrentPrincipal(c), id, c.FormValue("reason"))
		return err
	})
}

func (u *UI) fundCancel(c echo.Context) error {
	return u.decide(c, "cancel", "cancelled", func(id uuid.UUID) error {
		_, err := u.deps.Fund.Cancel(c.Request().Context(), CurrentPrincipal(c), id, c.FormValue("reason"))
		return err
	})
}

type batchesPage struct {
	fundForm
	Batches  []fund.Batch
	Approved []fund.Intervention // approved creditor payments not yet in a batch
	Date     string
}

func (u *UI) fundBatches(c echo.Context) error {
	return u.renderBatches(c, http.StatusOK, fundForm{Done: doneKey(c)})
}

func (u *UI) renderBatches(c echo.Context, status int, f fundForm) error {
	ctx := c.Request().Context()
	p := CurrentPrincipal(c)
	list, err := u.deps.Fund.Batches(ctx, p)
	if err != nil {
		return err
	}
	queue, err := u.deps.Fund.Queue(ctx, p)
	if err != nil {
		return err
	}
	page := batchesPage{fundForm: f, Batches: list, Date: time.Now().In(italianTime).AddDate(0, 0, 1).Format(time.DateOnly)}
	for _, in := range queue {
		if in.Status == fund.StatusApproved && in.ProviderID == nil && !in.InBatch {
			page.Approved = append(page.Approved, in)
		}
	}
	return u.r.render(c, status, "fund_batches", u.page(c, page))
}

func (u *UI) fundCreateBatch(c echo.Context) error {
	ctx := c.Request().Context()
	on, err := time.Parse(time.DateOnly, c.FormValue("execution_on"))
	var b fund.Batch
	if err != nil {
		err = apperr.New(apperr.Invalid, "not a date").With("field", "execution_on")
	} else {
		err = untilSettled(ctx, func() error {
			var err error
			b, err = u.deps.Fund.CreateBatch(ctx, CurrentPrincipal(c), on, c.FormValue(formKeyField))
			return err
		})
	}
	if err != nil {
		f, status, ferr := u.fundRefused(c, "batch", err)
		if ferr != nil {
			return ferr
		}
		return u.renderBatches(c, status, f)
	}
	return done(c, "/fondo/pagamenti/"+b.ID.String(), "batch_created")
}

func (u *UI) fundBatch(c echo.Context) error {
	return u.renderBatch(c, http.StatusOK, fundForm{Done: doneKey(c)})
}

func (u *UI) renderBatch(c echo.Context, status int, f fundForm) error {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return apperr.New(apperr.NotFound, "batch not found")
	}
	b, err := u.deps.Fund.GetBatch(c.Request().Context(), CurrentPrincipal(c), id)
	if err != nil {
		return err
	}
	return u.r.render(c, status, "fund_batch", u.page(c, struct {
		fundForm
		Batch fund.Batch
	}{f, b}))
}

func (u *UI) fundBatchFile(c echo.Context) error {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return apperr.New(apperr.NotFound, "batch not found")
	}
	name, file, err := u.deps.Fund.BatchFile(c.Request().Context(), CurrentPrincipal(c), id)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, "application/xml", file)
}

func (u *UI) fundExecuted(c echo.Context) error {
	id, _ := uuid.Parse(c.Param("id"))
	if _, err := u.deps.Fund.MarkExecuted(c.Request().Context(), CurrentPrincipal(c), id); err != nil {
		f, status, ferr := u.fundRefused(c, "executed", err)
		if ferr != nil {
			return ferr
		}
		return u.renderBatch(c, status, f)
	}
	return done(c, "/fondo/pagamenti/"+id.String(), "executed")
}

func (u *UI) fundReturnLine(c echo.Context) error {
	id, _ := uuid.Parse(c.Param("id"))
	line, _ := uuid.Parse(c.Param("line"))
	if _, err := u.deps.Fund.ReturnLine(c.Request().Context(), CurrentPrincipal(c), id, line, c.FormValue("reason")); err != nil {
		f, status, ferr := u.fundRefused(c, "return-"+c.Param("line"), err)
		if ferr != nil {
			return ferr
		}
		return u.renderBatch(c, status, f)
	}
	return done(c, "/fondo/pagamenti/"+id.String(), "returned")
}

func (u *UI) fundDashboard(c echo.Context) error {
	d, err := u.deps.Fund.Dashboard(c.Request().Context(), CurrentPrincipal(c))
	if err != nil {
		return err
	}
	l := lang(c)
	return u.r.render(c, http.StatusOK, "fund_dashboard", u.page(c, struct {
		fund.Dashboard
		InflowChart, EnvelopeChart, StateChart chart
	}{d, inflowChart(d.Pool.Inflows, l, u.cat), envelopeChart(d.Envelopes, l, u.cat), stateChart(d.ByState, l, u.cat)}))
}

// period reads ?dal=&al= (dates), by default the current calendar year.
func period(c echo.Context) (time.Time, time.Time, error) {
	now := time.Now().In(italianTime)
	from := time.Date(now.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(now.Year(), 12, 31, 0, 0, 0, 0, time.UTC)
	var err error
	if s := c.QueryParam("dal"); s != "" {
		if from, err = time.Parse(time.DateOnly, s); err != nil {
			return from, to, apperr.New(apperr.Invalid, "not a date").With("field", "from")
		}
	}
	if s := c.QueryParam("al"); s != "" {
		if to, err = time.Parse(time.DateOnly, s); err != nil {
			return from, to, apperr.New(apperr.Invalid, "not a date").With("field", "to")
		}
	}
	return from, to, nil
}

func (u *UI) fundIndicators(c echo.Context) error {
	from, to, err := period(c)
	if err != nil {
		return err
	}
	rows, err := u.deps.Fund.IndicatorsReport(c.Request().Context(), CurrentPrincipal(c), from, to)
	if err != nil {
		return err
	}
	l := lang(c)
	if c.QueryParam("formato") == "csv" {
		c.Response().Header().Set("Content-Disposition", `attachment; filename="indicatori-`+from.Format(time.DateOnly)+`-`+to.Format(time.DateOnly)+`.csv"`)
		c.Response().Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
		c.Response().WriteHeader(http.StatusOK)
		w := csvfile.NewWriter(c.Response())
		_ = w.Write(u.cat.T(l, "fund.indicators.indicator"), u.cat.T(l, "fund.indicators.count"), u.cat.T(l, "fund.indicators.cases"))
		for _, r := range rows {
			_ = w.Write(u.cat.T(l, "fund.indicator."+r.Indicator), strconv.Itoa(r.Count), strconv.Itoa(r.Cases))
		}
		return w.Flush()
	}
	return u.r.render(c, http.StatusOK, "fund_indicators", u.page(c, struct {
		Rows     []fund.IndicatorRow
		From, To string
	}{rows, from.Format(time.DateOnly), to.Format(time.DateOnly)}))
}

func (u *UI) fundAccessLog(c echo.Context) error {
	before, _ := strconv.ParseInt(c.QueryParam("prima"), 10, 64)
	list, err := u.deps.Fund.AccessLog(c.Request().Context(), CurrentPrincipal(c), nil, before, 100)
	if err != nil {
		return err
	}
	var next int64
	if len(list) == 100 {
		next = list[99].ID
	}
	return u.r.render(c, http.StatusOK, "fund_access_log", u.page(c, struct {
		Entries []fund.AccessEntry
		Next    int64
	}{list, next}))
}

func (u *UI) fundSettings(c echo.Context) error {
	s, err := u.deps.Fund.GetSettings(c.Request().Context(), CurrentPrincipal(c))
	if err != nil {
		return err
	}
	return u.r.render(c, http.StatusOK, "fund_settings", u.page(c, struct {
		fundForm
		Settings fund.Settings
	}{fundForm{Done: doneKey(c)}, s}))
}

func (u *UI) fundSaveSettings(c echo.Context) error {
	in := fund.Settings{Territory: c.FormValue("territory"), CUC: c.FormValue("cuc"), DebtorName: c.FormValue("debtor_name"),
		DebtorIBAN: c.FormValue("iban")}
	threshold, err := parseAmount(c, "approval_threshold")
	if err == nil {
		in.ApprovalThreshold = threshold
		_, err = u.deps.Fund.SaveSettings(c.Request().Context(), CurrentPrincipal(c), in)
	} else {
		err = apperr.AllInvalid(err, in.Validate()) // the other fields too
	}
	if err != nil {
		f, status, ferr := u.fundRefused(c, "settings", err)
		if ferr != nil {
			return ferr
		}
		return u.r.render(c, status, "fund_settings", u.page(c, struct {
			fundForm
			Settings fund.Settings
		}{f, in}))
	}
	return done(c, "/fondo/impostazioni", "settings_saved")
}
