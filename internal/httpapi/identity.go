package httpapi

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"
	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
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
	p, err := caller(ctx)
	if err != nil {
		return nil, err
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

func caller(ctx context.Context) (*auth.Principal, error) {
	p := auth.PrincipalFrom(ctx)
	if p == nil {
		return nil, apperr.New(apperr.Unauthorized, "authentication required")
	}
	return p, nil
}

func userOut(u *identity.User) User {
	roles := make([]Role, len(u.Roles))
	for i, r := range u.Roles {
		roles[i] = Role(r)
	}
	return User{Id: u.ID, Email: u.Email, Name: u.Name, Status: UserStatus(u.Status), Roles: roles,
		TotpEnabled: u.TOTPEnabled, CreatedAt: u.CreatedAt.UTC(),
		Organisation: OrganisationRef{Id: u.OrgID, Name: u.OrgName, Kind: OrganisationKind(u.OrgKind)}}
}

func orgOut(o *identity.Organisation) Organisation {
	return Organisation{Id: o.ID, Kind: OrganisationKind(o.Kind), Name: o.Name, Status: OrganisationStatus(o.Status), CreatedAt: o.CreatedAt.UTC()}
}

func rolesIn(rs []Role) []auth.Role {
	out := make([]auth.Role, len(rs))
	for i, r := range rs {
		out[i] = auth.Role(r)
	}
	return out
}

func orgParam(id *openapi_types.UUID) uuid.UUID {
	if id == nil {
		return uuid.Nil
	}
	return *id
}

func (h identityHandlers) AcceptInvitation(ctx context.Context, req AcceptInvitationRequestObject) (AcceptInvitationResponseObject, error) {
	name := ""
	if req.Body.Name != nil {
		name = *req.Body.Name
	}
	u, err := h.svc.AcceptInvitation(ctx, req.Body.Token, name, req.Body.Password)
	if err != nil {
		return nil, err
	}
	return AcceptInvitation200JSONResponse(userOut(u)), nil
}

func (h identityHandlers) RequestPasswordReset(ctx context.Context, req RequestPasswordResetRequestObject) (RequestPasswordResetResponseObject, error) {
	if err := h.svc.RequestPasswordReset(ctx, req.Body.Email); err != nil {
		return nil, err
	}
	return RequestPasswordReset202Response{}, nil
}

func (h identityHandlers) ConfirmPasswordReset(ctx context.Context, req ConfirmPasswordResetRequestObject) (ConfirmPasswordResetResponseObject, error) {
	if err := h.svc.ResetPassword(ctx, req.Body.Token, req.Body.Password); err != nil {
		return nil, err
	}
	return ConfirmPasswordReset204Response{}, nil
}

func (h identityHandlers) ListOrganisations(ctx context.Context, _ ListOrganisationsRequestObject) (ListOrganisationsResponseObject, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	orgs, err := h.svc.ListOrganisations(ctx, p)
	if err != nil {
		return nil, err
	}
	out := make(ListOrganisations200JSONResponse, len(orgs))
	for i := range orgs {
		out[i] = orgOut(&orgs[i])
	}
	return out, nil
}

func (h identityHandlers) CreateOrganisation(ctx context.Context, req CreateOrganisationRequestObject) (CreateOrganisationResponseObject, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	o, err := h.svc.CreateOrganisation(ctx, p, identity.NewOrganisation{Kind: auth.OrgKind(req.Body.Kind), Name: req.Body.Name},
		deref(req.Params.IdempotencyKey))
	if err != nil {
		return nil, err
	}
	return CreateOrganisation201JSONResponse(orgOut(o)), nil
}

func (h identityHandlers) GetOrganisation(ctx context.Context, req GetOrganisationRequestObject) (GetOrganisationResponseObject, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	o, err := h.svc.GetOrganisation(ctx, p, req.OrganisationId)
	if err != nil {
		return nil, err
	}
	return GetOrganisation200JSONResponse(orgOut(o)), nil
}

func (h identityHandlers) ListUsers(ctx context.Context, req ListUsersRequestObject) (ListUsersResponseObject, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	users, err := h.svc.ListUsers(ctx, p, orgParam(req.Params.OrganisationId))
	if err != nil {
		return nil, err
	}
	out := make(ListUsers200JSONResponse, len(users))
	for i := range users {
		out[i] = userOut(&users[i])
	}
	return out, nil
}

func (h identityHandlers) InviteUser(ctx context.Context, req InviteUserRequestObject) (InviteUserResponseObject, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	sent, err := h.svc.Invite(ctx, p, identity.Invitation{OrgID: orgParam(req.Body.OrganisationId), Email: req.Body.Email,
		Name: req.Body.Name, Roles: rolesIn(req.Body.Roles)}, deref(req.Params.IdempotencyKey))
	if err != nil {
		return nil, err
	}
	roles := make([]Role, len(sent.Roles))
	for i, r := range sent.Roles {
		roles[i] = Role(r)
	}
	return InviteUser202JSONResponse{Email: sent.Email, Name: sent.Name, Roles: roles, OrganisationId: sent.OrgID}, nil
}

func (h identityHandlers) InviteUsersCSV(ctx context.Context, req InviteUsersCSVRequestObject) (InviteUsersCSVResponseObject, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	n, err := h.svc.InviteCSV(ctx, p, orgParam(req.Params.OrganisationId), req.Body, nil, deref(req.Params.IdempotencyKey))
	if err != nil {
		return nil, err
	}
	return InviteUsersCSV200JSONResponse{Invited: n}, nil
}

func (h identityHandlers) GetUser(ctx context.Context, req GetUserRequestObject) (GetUserResponseObject, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	u, err := h.svc.GetUser(ctx, p, req.UserId)
	if err != nil {
		return nil, err
	}
	return GetUser200JSONResponse(userOut(u)), nil
}

func (h identityHandlers) UpdateUser(ctx context.Context, req UpdateUserRequestObject) (UpdateUserResponseObject, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var up identity.UserUpdate
	if req.Body.Roles != nil {
		up.Roles = rolesIn(*req.Body.Roles)
	}
	if req.Body.Status != nil {
		st := string(*req.Body.Status)
		up.Status = &st
	}
	u, err := h.svc.UpdateUser(ctx, p, req.UserId, up)
	if err != nil {
		return nil, err
	}
	return UpdateUser200JSONResponse(userOut(u)), nil
}

func (h identityHandlers) ListAuditLog(ctx context.Context, req ListAuditLogRequestObject) (ListAuditLogResponseObject, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	limit, before := 100, int64(0)
	if req.Params.Limit != nil {
		limit = *req.Params.Limit
	}
	if req.Params.Before != nil {
		before = *req.Params.Before
	}
	entries, err := h.svc.AuditLog(ctx, p, limit, before)
	if err != nil {
		return nil, err
	}
	out := make(ListAuditLog200JSONResponse, len(entries))
	for i, e := range entries {
		details := map[string]any{}
		_ = json.Unmarshal([]byte(e.Details), &details)
		out[i] = AuditEvent{Id: e.ID, At: e.At.UTC(), Event: e.Event, ActorId: e.ActorID, OrganisationId: e.OrgID,
			SubjectId: e.SubjectID, Email: e.Email, Ip: e.IP, Details: details}
	}
	return out, nil
}
