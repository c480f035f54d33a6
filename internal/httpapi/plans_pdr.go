package httpapi

import (
	"context"

	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/plans"
)

// Performance-bonus (PdR) conversion: HR records bonuses, each employee
// chooses how much to convert.

func (h plansHandlers) ListPdRBonuses(ctx context.Context, req ListPdRBonusesRequestObject) (ListPdRBonusesResponseObject, error) {
	list, err := h.svc.PdRBonuses(ctx, auth.PrincipalFrom(ctx), req.PlanId)
	if err != nil {
		return nil, err
	}
	out := ListPdRBonuses200JSONResponse{}
	for _, b := range list {
		out = append(out, pdrBonusOut(b))
	}
	return out, nil
}

func (h plansHandlers) SavePdRBonus(ctx context.Context, req SavePdRBonusRequestObject) (SavePdRBonusResponseObject, error) {
	b, err := h.svc.SavePdRBonus(ctx, auth.PrincipalFrom(ctx), req.PlanId, plans.PdRBonusInput{UserID: req.UserId,
		BonusCents: req.Body.BonusCents, PriorIncomeCents: req.Body.PriorIncomeCents})
	if err != nil {
		return nil, err
	}
	return SavePdRBonus200JSONResponse(pdrBonusOut(b)), nil
}

func (h plansHandlers) ListMyPdROffers(ctx context.Context, _ ListMyPdROffersRequestObject) (ListMyPdROffersResponseObject, error) {
	list, err := h.svc.MyPdROffers(ctx, auth.PrincipalFrom(ctx))
	if err != nil {
		return nil, err
	}
	out := ListMyPdROffers200JSONResponse{}
	for _, o := range list {
		out = append(out, pdrOfferOut(o))
	}
	return out, nil
}

func (h plansHandlers) ChoosePdR(ctx context.Context, req ChoosePdRRequestObject) (ChoosePdRResponseObject, error) {
	o, err := h.svc.ChoosePdR(ctx, auth.PrincipalFrom(ctx), req.PlanId, req.Body.ConvertCents)
	if err != nil {
		return nil, err
	}
	return ChoosePdR200JSONResponse(pdrOfferOut(o)), nil
}

func pdrBonusOut(b plans.PdRBonus) PdRBonus {
	return PdRBonus{PlanId: b.PlanID, UserId: b.UserID, Name: b.Name, Email: b.Email, BonusCents: b.BonusCents,
		PriorIncomeCents: b.PriorIncomeCents, ConvertCents: b.ConvertCents, ChosenAt: b.ChosenAt, Credited: b.Credited}
}

func pdrOfferOut(o plans.PdROffer) PdROffer {
	return PdROffer{PlanId: o.PlanID, PlanName: o.PlanName, EndsOn: openapi_types.Date{Time: o.EndsOn}, BonusCents: o.BonusCents,
		ConvertCents: o.ConvertCents, MaxCents: o.MaxCents, CapCents: o.CapCents, TaxRateBp: o.TaxRateBP, Open: o.Open, Credited: o.Credited}
}
