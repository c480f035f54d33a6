package webui

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/fund"
)

// The case pages: the purpose of the working session, the case list, the
// intake, a case with its assessment, plan, interventions and outcomes.
// Every read of a case or an identity goes through the fund service,
// which logs it with the session's purpose.

func (u *UI) registerFundCases(e *echo.Echo) {
	workers := Roles(auth.RoleCaseWorker)
	u.Handle(e, http.MethodGet, "/fondo/scopo", fundStaff, u.fundPurposeForm)
	u.Handle(e, http.MethodPost, "/fondo/scopo", fundStaff, u.fundPurposeSave)
	u.Handle(e, http.MethodGet, "/fondo/casi", fundStaff, u.fundCases)
	u.Handle(e, http.MethodGet, "/fondo/casi/nuovo", workers, u.fundIntakeForm)
	u.Handle(e, http.MethodPost, "/fondo/casi/nuovo", workers, u.fundIntake)
	u.Handle(e, http.MethodGet, "/fondo/casi/:id", fundStaff, u.fundCase)
	u.Handle(e, http.MethodGet, "/fondo/casi/:id/identita", fundStaff, u.fundIdentity)
	u.Handle(e, http.MethodPost, "/fondo/casi/:id/accesso-emergenza", workers, u.fundBreakGlass)
	u.Handle(e, http.MethodPost, "/fondo/casi/:id/:action", workers, u.fundCaseAction)
}

// sessionKey names the working session without its credential: a hash of
// the session cookie.
func (u *UI) sessionKey(c echo.Context) string {
	ck, err := c.Cookie(u.sessionCookieName())
	if err != nil || ck.Value == "" {
		return "no-session"
	}
	sum := sha256.Sum256([]byte(ck.Value))
	return hex.EncodeToString(sum[:16])
}

// fundReader is the person and the purpose they gave for this session;
// ok is false when they gave none yet (the caller sends them to give it).
func (u *UI) fundReader(c echo.Context) (fund.Reader, bool, error) {
	p := CurrentPrincipal(c)
	purpose, err := u.deps.Fund.SessionPurpose(c.Request().Context(), p, u.sessionKey(c))
	if err != nil {
		return fund.Reader{}, false, err
	}
	return fund.Reader{P: p, Purpose: purpose}, purpose != "", nil
}

// withReader runs page with the person and the purpose of this working
// session; a person who has not given one is first sent to give it.
func (u *UI) withReader(c echo.Context, page func(r fund.Reader) error) error {
	r, ok, err := u.fundReader(c)
	if err != nil {
		return err
	}
	if !ok {
		return askPurpose(c)
	}
	return page(r)
}

// askPurpose sends the person to say why they read beneficiary data, and
// back here afterwards.
func askPurpose(c echo.Context) error {
	return c.Redirect(http.StatusSeeOther, "/fondo/scopo?next="+url.QueryEscape(c.Request().URL.RequestURI()))
}

func (u *UI) fundPurposeForm(c echo.Context) error {
	r, _, err := u.fundReader(c)
	if err != nil {
		return err
	}
	return u.r.render(c, http.StatusOK, "fund_purpose", u.page(c, struct {
		Purposes []fund.Purpose
		Current  fund.Purpose
		Next     string
	}{fund.Purposes, r.Purpose, localPath(c.QueryParam("next"))}))
}

func (u *UI) fundPurposeSave(c echo.Context) error {
	err := u.deps.Fund.SetSessionPurpose(c.Request().Context(), CurrentPrincipal(c), u.sessionKey(c), fund.Purpose(c.FormValue("purpose")))
	if err != nil {
		return err
	}
	next := localPath(c.FormValue("next"))
	if next == "/" {
		next = "/fondo/casi"
	}
	return c.Redirect(http.StatusSeeOther, next)
}

type casesPage struct {
	Cases     []fund.CaseSummary
	FollowUps []fund.FollowUp
	Worker    bool
	Purpose   fund.Purpose
}

func (u *UI) fundCases(c echo.Context) error {
	ctx := c.Request().Context()
	p := CurrentPrincipal(c)
	list, err := u.deps.Fund.Cases(ctx, p)
	if err != nil {
		return err
	}
	page := casesPage{Cases: list, Worker: p.Has(auth.RoleCaseWorker)}
	if p.Has(auth.RoleCaseWorker, auth.RoleFundManager) {
		if page.FollowUps, err = u.deps.Fund.FollowUps(ctx, p); err != nil {
			return err
		}
	}
	r, _, err := u.fundReader(c)
	if err != nil {
		return err
	}
	page.Purpose = r.Purpose
	return u.r.render(c, http.StatusOK, "fund_cases", u.page(c, page))
}

type intakePage struct {
	fundForm
	Referrals  []fund.Referral
	Duplicates []fund.Duplicate
	Today      string
}

func (u *UI) fundIntakeForm(c echo.Context) error {
	return u.withReader(c, func(fund.Reader) error { return u.renderIntake(c, http.StatusOK, intakePage{}) })
}

func (u *UI) renderIntake(c echo.Context, status int, p intakePage) error {
	p.Referrals = fund.Referrals
	p.Today = time.Now().In(italianTime).Format(time.DateOnly)
	return u.r.render(c, status, "fund_intake", u.page(c, p))
}

func (u *UI) fundIntake(c echo.Context) error {
	return u.withReader(c, func(r fund.Reader) error {
		ctx := c.Request().Context()
		id := &fund.Identity{FirstName: c.FormValue("first_name"), LastName: c.FormValue("last_name"), BirthDate: c.FormValue("birth_date"),
			FiscalCode: c.FormValue("fiscal_code"), Phone: c.FormValue("phone"), Email: c.FormValue("email"), Address: c.FormValue("address")}
		in := fund.Intake{Identity: id, Referral: fund.Referral(c.FormValue("referral")), ConsentScope: c.FormValue("consent_scope"),
			HealthData: c.FormValue("health_data") == "1", ConfirmDuplicate: c.FormValue("confirm_duplicate") == "1"}
		if on, perr := time.ParseInLocation(time.DateOnly, c.FormValue("consent_on"), italianTime); perr == nil {
			in.ConsentOn = on
		}
		if b := c.FormValue("beneficiary"); b != "" {
			if ben, perr := uuid.Parse(b); perr == nil {
				in.Identity, in.Beneficiary = nil, &ben
			}
		}
		var opened fund.Case
		err := untilSettled(ctx, func() error {
			var err error
			opened, err = u.deps.Fund.OpenCase(ctx, r, in, c.FormValue(formKeyField))
			return err
		})
		if err != nil {
			f, status, ferr := u.fundRefused(c, "intake", err)
			if ferr != nil {
				return ferr
			}
			page := intakePage{fundForm: f}
			if apperr.Is(err, apperr.Conflict) && apperr.FieldOf(err) == "identity" {
				page.Duplicates, _ = u.deps.Fund.Duplicates(ctx, r.P, *id)
			}
			return u.renderIntake(c, status, page)
		}
		return done(c, "/fondo/casi/"+opened.ID.String(), "case_opened")
	})
}

// casePage is a case with everything its page shows.
type casePage struct {
	fundForm
	Case          fund.Case
	Interventions []fund.Intervention
	Outcomes      []fund.Outcome
	Envelopes     []fund.Envelope
	Worker        bool // the reader works on the case (assigned or break-glass)
	Approver      bool
	Manager       bool
	Areas         []string
	Levels        []string
	Kinds         []fund.Kind
	Indicators    []string
	Outcomes4     []string
	Bases         []string
	Today         string
}

// AreaOf returns the assessment area name of the case.
// A refused assessment shows what was typed.
func (p casePage) AreaOf(name string) fund.Area {
	if p.Form == "valutazione" && p.Typed != nil {
		return fund.Area{Level: p.Typed.Get(name + "_level"), Note: p.Typed.Get(name + "_note")}
	}
	a := p.Case.Assessment
	return *a.Areas()[name]
}

func (u *UI) fundCase(c echo.Context) error {
	return u.renderCase(c, http.StatusOK, fundForm{Done: doneKey(c)})
}

func (u *UI) renderCase(c echo.Context, status int, f fundForm) error {
	return u.withReader(c, func(r fund.Reader) error {
		id, err := uuid.Parse(c.Param("id"))
		if err != nil {
			return apperr.New(apperr.NotFound, "case not found")
		}
		ctx := c.Request().Context()
		cs, err := u.deps.Fund.GetCase(ctx, r, id)
		if apperr.Is(err, apperr.NotFound) && r.P.Has(auth.RoleCaseWorker) {
			// A colleague's case: the page offers the logged break-glass.
			return u.r.render(c, http.StatusNotFound, "fund_break_glass", u.page(c, struct {
				fundForm
				ID uuid.UUID
			}{f, id}))
		}
		if err != nil {
			return err
		}
		page := casePage{fundForm: f, Case: cs, Worker: cs.Access != "queue" && r.P.Has(auth.RoleCaseWorker),
			Approver: r.P.Has(auth.RoleFundApprover), Manager: r.P.Has(auth.RoleFundManager),
			Areas: fund.AssessmentAreas, Levels: fund.AreaLevels, Kinds: fund.Kinds, Indicators: fund.Indicators,
			Outcomes4: fund.CaseOutcomes, Bases: fund.BasisPurposes, Today: time.Now().In(italianTime).Format(time.DateOnly)}
		if page.Interventions, err = u.deps.Fund.Interventions(ctx, r, id); err != nil {
			return err
		}
		if page.Outcomes, err = u.deps.Fund.Outcomes(ctx, r, id); err != nil {
			return err
		}
		if page.Envelopes, err = u.deps.Fund.Envelopes(ctx, r.P); err != nil {
			return err
		}
		return u.r.render(c, status, "fund_case", u.page(c, page))
	})
}

func (u *UI) fundIdentity(c echo.Context) error {
	return u.withReader(c, func(r fund.Reader) error {
		id, err := uuid.Parse(c.Param("id"))
		if err != nil {
			return apperr.New(apperr.NotFound, "case not found")
		}
		ctx := c.Request().Context()
		cs, err := u.deps.Fund.GetCase(ctx, r, id)
		if err != nil {
			return err
		}
		who, err := u.deps.Fund.BeneficiaryIdentity(ctx, r, cs.BeneficiaryID)
		if err != nil {
			return err
		}
		return u.r.render(c, http.StatusOK, "fund_identity", u.page(c, struct {
			Case     fund.Case
			Identity fund.Identity
		}{cs, who}))
	})
}

func (u *UI) fundBreakGlass(c echo.Context) error {
	return u.withReader(c, func(r fund.Reader) error {
		id, _ := uuid.Parse(c.Param("id"))
		if err := u.deps.Fund.BreakGlass(c.Request().Context(), r, id, c.FormValue("reason")); err != nil {
			f, status, ferr := u.fundRefused(c, "break-glass", err)
			if ferr != nil {
				return ferr
			}
			return u.r.render(c, status, "fund_break_glass", u.page(c, struct {
				fundForm
				ID uuid.UUID
			}{f, id}))
		}
		return c.Redirect(http.StatusSeeOther, "/fondo/casi/"+id.String())
	})
}

// fundCaseAction runs one of a case worker's changes to a case, named by
// the last part of the path, and shows the case again (with the message
// next to the form that was refused).
func (u *UI) fundCaseAction(c echo.Context) error {
	return u.withReader(c, func(r fund.Reader) error {
		id, err := uuid.Parse(c.Param("id"))
		if err != nil {
			return apperr.New(apperr.NotFound, "case not found")
		}
		ctx := c.Request().Context()
		svc := u.deps.Fund
		action := c.Param("action")
		var doneKey string
		switch action {
		case "valutazione":
			var a fund.Assessment
			for name, area := range a.Areas() {
				area.Level, area.Note = c.FormValue(name+"_level"), strings.TrimSpace(c.FormValue(name+"_note"))
			}
			err, doneKey = svc.RecordAssessment(ctx, r, id, a), "assessment_saved"
		case "note":
			err, doneKey = svc.SetNotes(ctx, r, id, c.FormValue("notes")), "notes_saved"
		case "obiettivi":
			var due *time.Time
			doneKey = "goal_added"
			if typed := c.FormValue("due_on"); typed != "" {
				d, perr := time.ParseInLocation(time.DateOnly, typed, italianTime)
				if perr != nil {
					// A date that is not one, and the goal checked too.
					err = apperr.AllInvalid(fund.CheckGoal(c.FormValue("goal")), apperr.New(apperr.Invalid, "not a date").With("field", "due_on"))
					break
				}
				due = &d
			}
			err = svc.AddGoal(ctx, r, id, c.FormValue("goal"), due)
		case "obiettivo-raggiunto":
			goal, _ := uuid.Parse(c.FormValue("goal_id"))
			err, doneKey = svc.CompleteGoal(ctx, r, id, goal), "goal_done"
		case "revoca-consenso":
			basis, _ := uuid.Parse(c.FormValue("basis_id"))
			err, doneKey = svc.WithdrawConsent(ctx, r, id, basis), "consent_withdrawn"
		case "chiudi":
			err, doneKey = svc.CloseCase(ctx, r, id, c.FormValue("outcome")), "case_closed"
		case "esiti":
			on, _ := time.ParseInLocation(time.DateOnly, c.FormValue("achieved_on"), italianTime)
			_, err = svc.RecordOutcome(ctx, r, id, c.FormValue("indicator"), on)
			doneKey = "outcome_recorded"
		case "consegna":
			iid, _ := uuid.Parse(c.FormValue("intervention_id"))
			_, err = svc.ConfirmDelivery(ctx, r, iid)
			doneKey = "delivered"
		case "interventi":
			amount, perr := parseAmount(c, "amount")
			p := fund.Proposal{Kind: fund.Kind(c.FormValue("kind")), Theme: fund.Theme(c.FormValue("theme")), Amount: amount,
				Purpose: c.FormValue("purpose"), Payee: fund.Payee{Name: c.FormValue("payee_name"), IBAN: c.FormValue("iban"),
					Reference: c.FormValue("reference"), Street: c.FormValue("street"), Building: c.FormValue("building"),
					PostCode: c.FormValue("post_code"), Town: c.FormValue("town"), Country: c.FormValue("country")}}
			if prov, perr := uuid.Parse(c.FormValue("provider_id")); perr == nil {
				p.Payee.Provider = &prov
			}
			if perr != nil {
				// An amount that is not one, and every other field checked too.
				err = apperr.AllInvalid(perr, p.Validate())
			} else {
				err = untilSettled(ctx, func() error {
					_, err := svc.Propose(ctx, r, id, p, c.FormValue(formKeyField))
					return err
				})
			}
			doneKey = "proposed"
		default:
			return apperr.New(apperr.NotFound, "no such page")
		}
		if err != nil {
			f, status, ferr := u.fundRefused(c, action, err)
			if ferr != nil {
				return ferr
			}
			if apperr.Is(err, apperr.NotFound) && f.Field == "" {
				return err
			}
			return u.renderCase(c, status, f)
		}
		return done(c, "/fondo/casi/"+id.String(), doneKey)
	})
}
