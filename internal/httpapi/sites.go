package httpapi

import (
	"context"

	"github.com/google/uuid"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/catalog"
	"github.com/reciproca/reciproca/internal/identity"
)

// sitesHandlers map a company's sites, and the site each of its people
// picks, to the identity service; the towns come from the catalogue's
// places.
type sitesHandlers struct {
	svc    *identity.Service
	places *catalog.Service
}

// site is the API's view of s, with its town.
func (h sitesHandlers) site(ctx context.Context, s *identity.Site) (CompanySite, error) {
	out := CompanySite{Id: s.ID, Name: s.Name, Address: s.Address, Employees: s.Employees, Place: PlaceRef{Code: s.PlaceCode}}
	if p, err := h.places.Place(ctx, s.PlaceCode); err == nil {
		out.Place = PlaceRef{Code: p.Code, Name: p.Name, ProvinceCode: p.ProvinceCode}
	} else if !apperr.Is(err, apperr.Invalid) {
		return CompanySite{}, err
	}
	return out, nil
}

func (h sitesHandlers) ListCompanySites(ctx context.Context, _ ListCompanySitesRequestObject) (ListCompanySitesResponseObject, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	sites, err := h.svc.Sites(ctx, p)
	if err != nil {
		return nil, err
	}
	out := make(ListCompanySites200JSONResponse, len(sites))
	for i := range sites {
		if out[i], err = h.site(ctx, &sites[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (h sitesHandlers) GetCompanySite(ctx context.Context, req GetCompanySiteRequestObject) (GetCompanySiteResponseObject, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	s, err := h.svc.Site(ctx, p, req.SiteId)
	if err != nil {
		return nil, err
	}
	out, err := h.site(ctx, s)
	return GetCompanySite200JSONResponse(out), err
}

// save records a new site (id zero) or changes one, once the town is
// known: an unknown town is named with the other fields at fault.
func (h sitesHandlers) save(ctx context.Context, id uuid.UUID, body *CompanySiteInput) (CompanySite, error) {
	p, err := caller(ctx)
	if err != nil {
		return CompanySite{}, err
	}
	in := identity.SiteInput{Name: body.Name, Address: deref(body.Address), PlaceCode: body.PlaceCode}
	if _, err := h.places.Place(ctx, in.PlaceCode); apperr.Is(err, apperr.Invalid) {
		return CompanySite{}, apperr.AllInvalid(in.Validate(), err)
	} else if err != nil {
		return CompanySite{}, err
	}
	s, err := h.svc.SaveSite(ctx, p, id, in)
	if err != nil {
		return CompanySite{}, err
	}
	return h.site(ctx, s)
}

func (h sitesHandlers) CreateCompanySite(ctx context.Context, req CreateCompanySiteRequestObject) (CreateCompanySiteResponseObject, error) {
	s, err := h.save(ctx, uuid.Nil, req.Body)
	if err != nil {
		return nil, err
	}
	return CreateCompanySite201JSONResponse(s), nil
}

func (h sitesHandlers) UpdateCompanySite(ctx context.Context, req UpdateCompanySiteRequestObject) (UpdateCompanySiteResponseObject, error) {
	s, err := h.save(ctx, req.SiteId, req.Body)
	if err != nil {
		return nil, err
	}
	return UpdateCompanySite200JSONResponse(s), nil
}

func (h sitesHandlers) DeleteCompanySite(ctx context.Context, req DeleteCompanySiteRequestObject) (DeleteCompanySiteResponseObject, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	// A site that is not the company's (or no longer is) is 404: the
	// domain's delete would quietly change nothing. (Only company admins
	// get here: the operation's x-roles.)
	if _, err := h.svc.Site(ctx, p, req.SiteId); err != nil {
		return nil, err
	}
	if err := h.svc.DeleteSite(ctx, p, req.SiteId); err != nil {
		return nil, err
	}
	return DeleteCompanySite204Response{}, nil
}

// mySite is the caller's site, or none.
func (h sitesHandlers) mySite(ctx context.Context, user uuid.UUID) (MySite, error) {
	s, err := h.svc.UserSite(ctx, user)
	if err != nil || s == nil {
		return MySite{}, err
	}
	out, err := h.site(ctx, s)
	return MySite{Site: &out}, err
}

func (h sitesHandlers) GetMySite(ctx context.Context, _ GetMySiteRequestObject) (GetMySiteResponseObject, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	out, err := h.mySite(ctx, p.UserID)
	return GetMySite200JSONResponse(out), err
}

func (h sitesHandlers) SetMySite(ctx context.Context, req SetMySiteRequestObject) (SetMySiteResponseObject, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := h.svc.SetUserSite(ctx, p, p.UserID, req.Body.SiteId); err != nil {
		return nil, err
	}
	out, err := h.mySite(ctx, p.UserID)
	return SetMySite200JSONResponse(out), err
}
