package httpapi

import (
	"context"

	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/redemption"
)

// The platform's treasury: moves between its Stripe balance and its bank
// account, and Connect fees (redemption.RecordTreasuryMove, TreasuryNow).

func treasuryMoveOut(m redemption.TreasuryMove) TreasuryMove {
	return TreasuryMove{Id: m.ID, Direction: TreasuryMoveDirection(m.Direction), AmountCents: m.AmountCents, Reference: m.Reference,
		Note: m.Note, TransactionId: m.TxID, CreatedAt: m.CreatedAt}
}

func (h redemptionHandlers) GetTreasury(ctx context.Context, _ GetTreasuryRequestObject) (GetTreasuryResponseObject, error) {
	t, err := h.svc.TreasuryNow(ctx, auth.PrincipalFrom(ctx))
	if err != nil {
		return nil, err
	}
	out := GetTreasury200JSONResponse{StripeCents: t.StripeCents, BankCents: t.BankCents, Moves: []TreasuryMove{}, ConnectFees: []ConnectFee{}}
	for _, m := range t.Moves {
		out.Moves = append(out.Moves, treasuryMoveOut(m))
	}
	for _, f := range t.ConnectFees {
		out.ConnectFees = append(out.ConnectFees, ConnectFee{StripeId: f.StripeID, AmountCents: f.AmountCents, Description: f.Description,
			CreatedAt: f.CreatedAt, TransactionId: f.TxID})
	}
	return out, nil
}

func (h redemptionHandlers) RecordTreasuryMove(ctx context.Context, req RecordTreasuryMoveRequestObject) (RecordTreasuryMoveResponseObject, error) {
	m, err := h.svc.RecordTreasuryMove(ctx, auth.PrincipalFrom(ctx), redemption.TreasuryMoveInput{Direction: string(req.Body.Direction),
		AmountCents: req.Body.AmountCents, Reference: deref(req.Body.Reference), Note: deref(req.Body.Note)}, deref(req.Params.IdempotencyKey))
	if err != nil {
		return nil, err
	}
	return RecordTreasuryMove201JSONResponse(treasuryMoveOut(m)), nil
}
