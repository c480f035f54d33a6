package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/fund"
)

// Cases, interventions, payment batches and reports of the inclusion
// fund: handlers mapping to fund.Service. The domain's types carry the
// JSON names of the spec's schemas, so responses and request bodies are
// converted through JSON (as).

// as converts v to the generated type T through its JSON form.
func as[T any](v any) (T, error) {
	var out T
	b, err := json.Marshal(v)
	if err != nil {
		return out, apperr.Wrap(err, "encoding response")
	}
	return out, apperr.Wrap(json.Unmarshal(b, &out), "encoding response")
}

// reader is the caller and the purpose they stated for this read.
func reader(ctx context.Context, purpose string) fund.Reader {
	return fund.Reader{P: auth.PrincipalFrom(ctx), Purpose: fund.Purpose(purpose)}
}

func (h fundHandlers) GetFundSettings(ctx context.Context, _ GetFundSettingsRequestObject) (GetFundSettingsResponseObject, error) {
	s, err := h.svc.GetSettings(ctx, auth.PrincipalFrom(ctx))
	if err != nil {
		return nil, err
	}
	return as[GetFundSettings200JSONResponse](s)
}

func (h fundHandlers) SaveFundSettings(ctx context.Context, req SaveFundSettingsRequestObject) (SaveFundSettingsResponseObject, error) {
	in, err := as[fund.Settings](req.Body)
	if err != nil {
		return nil, err
	}
	s, err := h.svc.SaveSettings(ctx, auth.PrincipalFrom(ctx), in)
	if err != nil {
		return nil, err
	}
	return as[SaveFundSettings200JSONResponse](s)
}

func (h fundHandlers) FindFundDuplicates(ctx context.Context, req FindFundDuplicatesRequestObject) (FindFundDuplicatesResponseObject, error) {
	id, err := as[fund.Identity](req.Body)
	if err != nil {
		return nil, err
	}
	list, err := h.svc.Duplicates(ctx, auth.PrincipalFrom(ctx), id)
	if err != nil {
		return nil, err
	}
	return as[FindFundDuplicates200JSONResponse](list)
}

func (h fundHandlers) ListFundCases(ctx context.Context, _ ListFundCasesRequestObject) (ListFundCasesResponseObject, error) {
	list, err := h.svc.Cases(ctx, auth.PrincipalFrom(ctx))
	if err != nil {
		return nil, err
	}
	return as[ListFundCases200JSONResponse](list)
}

func (h fundHandlers) OpenFundCase(ctx context.Context, req OpenFundCaseRequestObject) (OpenFundCaseResponseObject, error) {
	in, err := as[fund.Intake](req.Body)
	if err != nil {
		return nil, err
	}
	c, err := h.svc.OpenCase(ctx, reader(ctx, string(req.Params.XAccessPurpose)), in, deref(req.Params.IdempotencyKey))
	if err != nil {
		return nil, err
	}
	return as[OpenFundCase201JSONResponse](c)
}

func (h fundHandlers) GetFundCase(ctx context.Context, req GetFundCaseRequestObject) (GetFundCaseResponseObject, error) {
	c, err := h.svc.GetCase(ctx, reader(ctx, string(req.Params.XAccessPurpose)), req.CaseId)
	if err != nil {
		return nil, err
	}
	return as[GetFundCase200JSONResponse](c)
}

func (h fundHandlers) GetFundCaseIdentity(ctx context.Context, req GetFundCaseIdentityRequestObject) (GetFundCaseIdentityResponseObject, error) {
	r := reader(ctx, string(req.Params.XAccessPurpose))
	c, err := h.svc.GetCase(ctx, r, req.CaseId)
	if err != nil {
		return nil, err
	}
	id, err := h.svc.BeneficiaryIdentity(ctx, r, c.BeneficiaryID)
	if err != nil {
		return nil, err
	}
	return as[GetFundCaseIdentity200JSONResponse](id)
}

func (h fundHandlers) GetFundCaseHistory(ctx context.Context, req GetFundCaseHistoryRequestObject) (GetFundCaseHistoryResponseObject, error) {
	list, err := h.svc.History(ctx, reader(ctx, string(req.Params.XAccessPurpose)), req.CaseId)
	if err != nil {
		return nil, err
	}
	out := GetFundCaseHistory200JSONResponse{}
	for _, e := range list {
		var details map[string]any
		_ = json.NewDecoder(bytes.NewReader(e.Details)).Decode(&details)
		out = append(out, FundHistoryEntry{At: e.At, Actor: e.Actor, Event: e.Event, Details: details})
	}
	return out, nil
}

func (h fundHandlers) BreakGlassFundCase(ctx context.Context, req BreakGlassFundCaseRequestObject) (BreakGlassFundCaseResponseObject, error) {
	if err := h.svc.BreakGlass(ctx, reader(ctx, string(req.Params.XAccessPurpose)), req.CaseId, req.Body.Reason); err != nil {
		return nil, err
	}
	return BreakGlassFundCase204Response{}, nil
}

func (h fundHandlers) RecordFundAssessment(ctx context.Context, req RecordFundAssessmentRequestObject) (RecordFundAssessmentResponseObject, error) {
	a, err := as[fund.Assessment](req.Body)
	if err != nil {
		return nil, err
	}
	if err := h.svc.RecordAssessment(ctx, reader(ctx, string(req.Params.XAccessPurpose)), req.CaseId, a); err != nil {
		return nil, err
	}
	return RecordFundAssessment204Response{}, nil
}

func (h fundHandlers) AddFundGoal(ctx context.Context, req AddFundGoalRequestObject) (AddFundGoalResponseObject, error) {
	var due *time.Time
	if req.Body.DueOn != nil {
		due = &req.Body.DueOn.Time
	}
	if err := h.svc.AddGoal(ctx, reader(ctx, string(req.Params.XAccessPurpose)), req.CaseId, req.Body.Text, due); err != nil {
		return nil, err
	}
	return AddFundGoal204Response{}, nil
}

func (h fundHandlers) CloseFundCase(ctx context.Context, req CloseFundCaseRequestObject) (CloseFundCaseResponseObject, error) {
	if err := h.svc.CloseCase(ctx, reader(ctx, string(req.Params.XAccessPurpose)), req.CaseId, string(req.Body.Outcome)); err != nil {
		return nil, err
	}
	return CloseFundCase204Response{}, nil
}

func (h fundHandlers) ListFundCaseInterventions(ctx context.Context, req ListFundCaseInterventionsRequestObject) (ListFundCaseInterventionsResponseObject, error) {
	list, err := h.svc.Interventions(ctx, reader(ctx, string(req.Params.XAccessPurpose)), req.CaseId)
	if err != nil {
		return nil, err
	}
	return as[ListFundCaseInterventions200JSONResponse](list)
}

func (h fundHandlers) ProposeFundIntervention(ctx context.Context, req ProposeFundInterventionRequestObject) (ProposeFundInterventionResponseObject, error) {
	p, err := as[fund.Proposal](req.Body)
	if err != nil {
		return nil, err
	}
	in, err := h.svc.Propose(ctx, reader(ctx, string(req.Params.XAccessPurpose)), req.CaseId, p, deref(req.Params.IdempotencyKey))
	if err != nil {
		return nil, err
	}
	return as[ProposeFundIntervention201JSONResponse](in)
}

func (h fundHandlers) RecordFundOutcome(ctx context.Context, req RecordFundOutcomeRequestObject) (RecordFundOutcomeResponseObject, error) {
	_, err := h.svc.RecordOutcome(ctx, reader(ctx, string(req.Params.XAccessPurpose)), req.CaseId, string(req.Body.Indicator), req.Body.AchievedOn.Time)
	if err != nil {
		return nil, err
	}
	return RecordFundOutcome201Response{}, nil
}

func (h fundHandlers) GetFundQueue(ctx context.Context, _ GetFundQueueRequestObject) (GetFundQueueResponseObject, error) {
	list, err := h.svc.Queue(ctx, auth.PrincipalFrom(ctx))
	if err != nil {
		return nil, err
	}
	return as[GetFundQueue200JSONResponse](list)
}

func (h fundHandlers) ApproveFundIntervention(ctx context.Context, req ApproveFundInterventionRequestObject) (ApproveFundInterventionResponseObject, error) {
	in, err := h.svc.Approve(ctx, auth.PrincipalFrom(ctx), req.InterventionId)
	if err != nil {
		return nil, err
	}
	return as[ApproveFundIntervention200JSONResponse](in)
}

func (h fundHandlers) RejectFundIntervention(ctx context.Context, req RejectFundInterventionRequestObject) (RejectFundInterventionResponseObject, error) {
	in, err := h.svc.Reject(ctx, auth.PrincipalFrom(ctx), req.InterventionId, req.Body.Reason)
	if err != nil {
		return nil, err
	}
	return as[RejectFundIntervention200JSONResponse](in)
}

func (h fundHandlers) CancelFundIntervention(ctx context.Context, req CancelFundInterventionRequestObject) (CancelFundInterventionResponseObject, error) {
	in, err := h.svc.Cancel(ctx, auth.PrincipalFrom(ctx), req.InterventionId, req.Body.Reason)
	if err != nil {
		return nil, err
	}
	return as[CancelFundIntervention200JSONResponse](in)
}

func (h fundHandlers) ConfirmFundDelivery(ctx context.Context, req ConfirmFundDeliveryRequestObject) (ConfirmFundDeliveryResponseObject, error) {
	in, err := h.svc.ConfirmDelivery(ctx, reader(ctx, string(req.Params.XAccessPurpose)), req.InterventionId)
	if err != nil {
		return nil, err
	}
	return as[ConfirmFundDelivery200JSONResponse](in)
}

func (h fundHandlers) ClawbackFundIntervention(ctx context.Context, req ClawbackFundInterventionRequestObject) (ClawbackFundInterventionResponseObject, error) {
	in, err := h.svc.Clawback(ctx, auth.PrincipalFrom(ctx), req.InterventionId, req.Body.Amount, req.Body.Reason)
	if err != nil {
		return nil, err
	}
	return as[ClawbackFundIntervention200JSONResponse](in)
}

func (h fundHandlers) GetFundAttribution(ctx context.Context, req GetFundAttributionRequestObject) (GetFundAttributionResponseObject, error) {
	list, err := h.svc.Attributions(ctx, auth.PrincipalFrom(ctx), req.InterventionId)
	if err != nil {
		return nil, err
	}
	return as[GetFundAttribution200JSONResponse](list)
}

func (h fundHandlers) ListFundBatches(ctx context.Context, _ ListFundBatchesRequestObject) (ListFundBatchesResponseObject, error) {
	list, err := h.svc.Batches(ctx, auth.PrincipalFrom(ctx))
	if err != nil {
		return nil, err
	}
	return as[ListFundBatches200JSONResponse](list)
}

func (h fundHandlers) CreateFundBatch(ctx context.Context, req CreateFundBatchRequestObject) (CreateFundBatchResponseObject, error) {
	b, err := h.svc.CreateBatch(ctx, auth.PrincipalFrom(ctx), req.Body.ExecutionOn.Time, deref(req.Params.IdempotencyKey))
	if err != nil {
		return nil, err
	}
	return as[CreateFundBatch201JSONResponse](b)
}

func (h fundHandlers) GetFundBatch(ctx context.Context, req GetFundBatchRequestObject) (GetFundBatchResponseObject, error) {
	b, err := h.svc.GetBatch(ctx, auth.PrincipalFrom(ctx), uuid.UUID(req.BatchId))
	if err != nil {
		return nil, err
	}
	return as[GetFundBatch200JSONResponse](b)
}

func (h fundHandlers) GetFundBatchFile(ctx context.Context, req GetFundBatchFileRequestObject) (GetFundBatchFileResponseObject, error) {
	_, file, err := h.svc.BatchFile(ctx, auth.PrincipalFrom(ctx), uuid.UUID(req.BatchId))
	if err != nil {
		return nil, err
	}
	return GetFundBatchFile200ApplicationxmlResponse{Body: bytes.NewReader(file), ContentLength: int64(len(file))}, nil
}

func (h fundHandlers) ExecuteFundBatch(ctx context.Context, req ExecuteFundBatchRequestObject) (ExecuteFundBatchResponseObject, error) {
	b, err := h.svc.MarkExecuted(ctx, auth.PrincipalFrom(ctx), uuid.UUID(req.BatchId))
	if err != nil {
		return nil, err
	}
	return as[ExecuteFundBatch200JSONResponse](b)
}

func (h fundHandlers) ReturnFundBatchLine(ctx context.Context, req ReturnFundBatchLineRequestObject) (ReturnFundBatchLineResponseObject, error) {
	b, err := h.svc.ReturnLine(ctx, auth.PrincipalFrom(ctx), uuid.UUID(req.BatchId), req.LineId, req.Body.Reason)
	if err != nil {
		return nil, err
	}
	return as[ReturnFundBatchLine200JSONResponse](b)
}

func (h fundHandlers) GetFundDashboard(ctx context.Context, _ GetFundDashboardRequestObject) (GetFundDashboardResponseObject, error) {
	d, err := h.svc.Dashboard(ctx, auth.PrincipalFrom(ctx))
	if err != nil {
		return nil, err
	}
	return as[GetFundDashboard200JSONResponse](d)
}

func (h fundHandlers) GetFundIndicators(ctx context.Context, req GetFundIndicatorsRequestObject) (GetFundIndicatorsResponseObject, error) {
	rows, err := h.svc.IndicatorsReport(ctx, auth.PrincipalFrom(ctx), req.Params.From.Time, req.Params.To.Time)
	if err != nil {
		return nil, err
	}
	return as[GetFundIndicators200JSONResponse](rows)
}

func (h fundHandlers) GetFundAccessLog(ctx context.Context, req GetFundAccessLogRequestObject) (GetFundAccessLogResponseObject, error) {
	limit := 100
	if req.Params.Limit != nil {
		limit = *req.Params.Limit
	}
	list, err := h.svc.AccessLog(ctx, auth.PrincipalFrom(ctx), req.Params.BeneficiaryId, deref(req.Params.Before), limit)
	if err != nil {
		return nil, err
	}
	return as[GetFundAccessLog200JSONResponse](list)
}

func (h fundHandlers) EraseFundIdentity(ctx context.Context, req EraseFundIdentityRequestObject) (EraseFundIdentityResponseObject, error) {
	if err := h.svc.EraseIdentity(ctx, auth.PrincipalFrom(ctx), req.BeneficiaryId, req.Body.Reason); err != nil {
		return nil, err
	}
	return EraseFundIdentity204Response{}, nil
}

func (h fundHandlers) ExportFundBeneficiary(ctx context.Context, req ExportFundBeneficiaryRequestObject) (ExportFundBeneficiaryResponseObject, error) {
	e, err := h.svc.ExportBeneficiary(ctx, reader(ctx, string(req.Params.XAccessPurpose)), req.BeneficiaryId)
	if err != nil {
		return nil, err
	}
	return as[ExportFundBeneficiary200JSONResponse](e)
}
