package httpapi

import (
	"context"
	"time"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/identity"
)

// identityHandlers map sign-in, the caller and user management to the
// identity service.
type identityHandlers struct {
	svc *identity.Service
}

func tokenPair(t *identity.Tokens) TokenPair {
	return TokenPair{
		AccessToken:  t.AccessToken,
		TokenType:    "Bearer",
		ExpiresAt:    t.ExpiresAt.UTC(),
		ExpiresIn:    int(time.Until(t.ExpiresAt).Seconds()),
		RefreshToken: t.RefreshToken,
	}
}

func (h identityHandlers) Login(ctx context.Context, req LoginRequestObject) (LoginResponseObject, error) {
	cr := identity.Credentials{Email: req.Body.Email, Password: req.Body.Password}
	if req.Body.TotpCode != nil {
		cr.TOTP = *req.Body.TotpCode
	}
	t, err := h.svc.Login(ctx, cr)
	if err != nil {
		return nil, err
	}
	return Login200JSONResponse(tokenPair(t)), nil
}

func (h identityHandlers) RefreshTokens(ctx context.Context, req RefreshTokensRequestObject) (RefreshTokensResponseObject, error) {
	t, err := h.svc.Refresh(ctx, req.Body.RefreshToken)
	if err != nil {
		return nil, err
	}
	return RefreshTokens200JSONResponse(tokenPair(t)), nil
}

func (h identityHandlers) Logout(ctx context.Context, req LogoutRequestObject) (LogoutResponseObject, error) {
	if err := h.svc.Logout(ctx, req.Body.RefreshToken); err != nil {
		return nil, err
	}
	return Logout204Response{}, nil
}

func (h identityHandlers) GetMe(ctx context.Context, _ GetMeRequestObject) (GetMeResponseObject, error) {
	p := identity.PrincipalFrom(ctx)
	if p == nil {
		return nil, apperr.New(apperr.Unauthorized, "authentication required")
	}
	me, err := h.svc.Me(ctx, p)
	if err != nil {
		return nil, err
	}
	roles := make([]Role, len(me.Roles))
	for i, r := range me.Roles {
		roles[i] = Role(r)
	}
	return GetMe200JSONResponse(Me{
		Id: me.UserID, Email: me.Email, Name: me.Name, Roles: roles, TotpEnabled: me.TOTPEnabled,
		Organisation: OrganisationRef{Id: me.OrgID, Name: me.OrgName, Kind: OrganisationKind(me.OrgKind)},
	}), nil
}
