package httpapi

import (
	"context"
	"io"

	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/catalog"
)

// catalogHandlers map the catalogue's operations to catalog.Service.
type catalogHandlers struct {
	svc *catalog.Service
	// stripeReturnURL is where Stripe sends providers back after onboarding.
	stripeReturnURL string
}

func (h catalogHandlers) ListCategories(ctx context.Context, _ ListCategoriesRequestObject) (ListCategoriesResponseObject, error) {
	out := ListCategories200JSONResponse{}
	for _, c := range h.svc.Categories() {
		out = append(out, Category{Code: c.Code, Label: c.LabelIT, LabelEn: c.LabelEN, TaxBucket: CategoryTaxBucket(c.TaxBucket)})
	}
	return out, nil
}

func (h catalogHandlers) FindPlaces(ctx context.Context, req FindPlacesRequestObject) (FindPlacesResponseObject, error) {
	limit := 0
	if req.Params.Limit != nil {
		limit = *req.Params.Limit
	}
	places, err := h.svc.FindPlaces(ctx, req.Params.Q, limit)
	if err != nil {
		return nil, err
	}
	out := FindPlaces200JSONResponse{}
	for _, p := range places {
		out = append(out, Place{Code: p.Code, Name: p.Name, ProvinceCode: p.ProvinceCode, ProvinceName: p.ProvinceName,
			RegionName: p.RegionName, Postcodes: p.Postcodes, Lat: p.Lat, Lon: p.Lon})
	}
	return out, nil
}

func (h catalogHandlers) SearchOfferings(ctx context.Context, req SearchOfferingsRequestObject) (SearchOfferingsResponseObject, error) {
	p := req.Params
	q := catalog.SearchQuery{Text: deref(p.Q), Category: deref(p.Category), MinPrice: p.MinPrice, MaxPrice: p.MaxPrice,
		Cursor: deref(p.Cursor), Labelled: deref(p.InclusionLabel)}
	if p.Near != nil {
		pt, err := catalog.ParseLatLon(*p.Near)
		if err != nil {
			return nil, err
		}
		q.Near = &pt
	}
	if p.RadiusKm != nil {
		q.RadiusKm = float64(*p.RadiusKm)
	}
	if p.Sort != nil {
		q.Sort = catalog.Sort(*p.Sort)
	}
	if p.Limit != nil {
		q.Limit = *p.Limit
	}
	page, err := h.svc.Search(ctx, q)
	if err != nil {
		return nil, err
	}
	out := SearchOfferings200JSONResponse{Items: make([]Offering, 0, len(page.Items))}
	for _, o := range page.Items {
		out.Items = append(out.Items, offeringOut(o))
	}
	if page.NextCursor != "" {
		out.NextCursor = &page.NextCursor
	}
	out.NearestKm = page.NearestKm
	return out, nil
}

func (h catalogHandlers) GetOffering(ctx context.Context, req GetOfferingRequestObject) (GetOfferingResponseObject, error) {
	o, err := h.svc.Offering(ctx, req.OfferingId)
	if err != nil {
		return nil, err
	}
	return GetOffering200JSONResponse(offeringOut(o)), nil
}

func (h catalogHandlers) UpdateOffering(ctx context.Context, req UpdateOfferingRequestObject) (UpdateOfferingResponseObject, error) {
	o, err := h.svc.UpdateOffering(ctx, auth.PrincipalFrom(ctx), req.OfferingId, offeringIn(*req.Body))
	if err != nil {
		return nil, err
	}
	return UpdateOffering200JSONResponse(offeringOut(o)), nil
}

func (h catalogHandlers) SetOfferingStatus(ctx context.Context, req SetOfferingStatusRequestObject) (SetOfferingStatusResponseObject, error) {
	o, err := h.svc.SetOfferingStatus(ctx, auth.PrincipalFrom(ctx), req.OfferingId, catalog.OfferingStatus(req.Body.Status))
	if err != nil {
		return nil, err
	}
	return SetOfferingStatus200JSONResponse(offeringOut(o)), nil
}

func (h catalogHandlers) UploadOfferingPhoto(ctx context.Context, req UploadOfferingPhotoRequestObject) (UploadOfferingPhotoResponseObject, error) {
	ph, err := upload(req.Body, func(data []byte) (catalog.Photo, error) {
		return h.svc.AddOfferingPhoto(ctx, auth.PrincipalFrom(ctx), req.OfferingId, data)
	})
	if err != nil {
		return nil, err
	}
	return UploadOfferingPhoto200JSONResponse(ph), nil
}

func (h catalogHandlers) UploadProviderLogo(ctx context.Context, req UploadProviderLogoRequestObject) (UploadProviderLogoResponseObject, error) {
	ph, err := upload(req.Body, func(data []byte) (catalog.Photo, error) {
		return h.svc.SetLogo(ctx, auth.PrincipalFrom(ctx), req.ProviderId, data)
	})
	if err != nil {
		return nil, err
	}
	return UploadProviderLogo200JSONResponse(ph), nil
}

// upload reads an image body and hands it to store. One byte more than
// the limit is read, so that the service can say "too large".
func upload(body io.Reader, store func([]byte) (catalog.Photo, error)) (Photo, error) {
	data, err := io.ReadAll(io.LimitReader(body, catalog.MaxPhotoBytes+1))
	if err != nil {
		return Photo{}, err
	}
	ph, err := store(data)
	if err != nil {
		return Photo{}, err
	}
	return Photo{Id: ph.ID, Url: catalog.PhotoPath(ph.ID), Width: ph.Width, Height: ph.Height}, nil
}

func (h catalogHandlers) ListProviders(ctx context.Context, req ListProvidersRequestObject) (ListProvidersResponseObject, error) {
	var status catalog.ProviderStatus
	if req.Params.Status != nil {
		status = catalog.ProviderStatus(*req.Params.Status)
	}
	list, err := h.svc.Providers(ctx, auth.PrincipalFrom(ctx), status)
	if err != nil {
		return nil, err
	}
	out := ListProviders200JSONResponse{}
	for _, p := range list {
		out = append(out, providerOut(p))
	}
	return out, nil
}

func (h catalogHandlers) GetProvider(ctx context.Context, req GetProviderRequestObject) (GetProviderResponseObject, error) {
	p, err := h.svc.Provider(ctx, auth.PrincipalFrom(ctx), req.ProviderId)
	if err != nil {
		return nil, err
	}
	return GetProvider200JSONResponse(providerOut(p)), nil
}

func (h catalogHandlers) SaveProvider(ctx context.Context, req SaveProviderRequestObject) (SaveProviderResponseObject, error) {
	b := req.Body
	in := catalog.ProfileInput{LegalName: b.LegalName, LegalForm: catalog.LegalForm(b.LegalForm), VATNumber: deref(b.VatNumber),
		FiscalCode: b.FiscalCode, Address: deref(b.Address), PlaceCode: b.PlaceCode, Email: deref(b.Email), Phone: deref(b.Phone),
		Website: deref(b.Website), Description: deref(b.Description), FundPledgeBps: deref(b.FundPledgeBps)}
	p, err := h.svc.SaveProfile(ctx, auth.PrincipalFrom(ctx), req.ProviderId, in)
	if err != nil {
		return nil, err
	}
	return SaveProvider200JSONResponse(providerOut(p)), nil
}

func (h catalogHandlers) ReviewProvider(ctx context.Context, req ReviewProviderRequestObject) (ReviewProviderResponseObject, error) {
	p, err := h.svc.ReviewProvider(ctx, auth.PrincipalFrom(ctx), req.ProviderId, req.Body.Decision == ReviewProviderJSONBodyDecisionApprove, deref(req.Body.Note))
	if err != nil {
		return nil, err
	}
	return ReviewProvider200JSONResponse(providerOut(p)), nil
}

func (h catalogHandlers) StartStripeOnboarding(ctx context.Context, req StartStripeOnboardingRequestObject) (StartStripeOnboardingResponseObject, error) {
	back := h.stripeReturnURL
	acct, link, err := h.svc.StartStripeOnboarding(ctx, auth.PrincipalFrom(ctx), req.ProviderId, back+"?refresh=1", back)
	if err != nil {
		return nil, err
	}
	return StartStripeOnboarding200JSONResponse{AccountId: acct, Url: link}, nil
}

func (h catalogHandlers) ListProviderOfferings(ctx context.Context, req ListProviderOfferingsRequestObject) (ListProviderOfferingsResponseObject, error) {
	list, err := h.svc.ProviderOfferings(ctx, auth.PrincipalFrom(ctx), req.ProviderId)
	if err != nil {
		return nil, err
	}
	out := ListProviderOfferings200JSONResponse{}
	for _, o := range list {
		out = append(out, offeringOut(o))
	}
	return out, nil
}

func (h catalogHandlers) CreateOffering(ctx context.Context, req CreateOfferingRequestObject) (CreateOfferingResponseObject, error) {
	o, err := h.svc.CreateOffering(ctx, auth.PrincipalFrom(ctx), req.ProviderId, offeringIn(*req.Body), deref(req.Params.IdempotencyKey))
	if err != nil {
		return nil, err
	}
	return CreateOffering201JSONResponse(offeringOut(o)), nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func offeringIn(b OfferingInput) catalog.OfferingInput {
	in := catalog.OfferingInput{Title: b.Title, Description: deref(b.Description), Category: b.Category,
		PriceCents: b.PriceCents, Unit: catalog.Unit(b.Unit), Address: deref(b.Address), PlaceCode: b.PlaceCode,
		Lat: b.Lat, Lon: b.Lon, ServiceRadiusKm: deref(b.ServiceRadiusKm),
		Availability: catalog.Availability(deref(b.Availability)), Status: catalog.OfferingStatus(deref(b.Status))}
	for _, s := range deref(b.Slots) {
		in.Slots = append(in.Slots, catalog.SlotInput{StartsAt: s.StartsAt, EndsAt: s.EndsAt, Capacity: s.Capacity})
	}
	return in
}

func offeringOut(o catalog.Offering) Offering {
	out := Offering{Id: o.ID, Title: o.Title, Description: o.Description, Category: o.Category,
		TaxBucket: string(o.TaxBucket()), PriceCents: o.PriceCents, Unit: string(o.Unit), Address: o.Address,
		Place:    PlaceRef{Code: o.PlaceCode, Name: o.PlaceName, ProvinceCode: o.ProvinceCode},
		Provider: ProviderSummary{Id: o.ProviderID, Name: o.ProviderName, LegalForm: ProviderSummaryLegalForm(o.ProviderForm)},
		Lat:      o.Lat, Lon: o.Lon, ServiceRadiusKm: o.ServiceRadiusKm, Availability: OfferingAvailability(o.Availability),
		Status: OfferingStatus(o.Status), MapUrl: catalog.MapURL(o.Lat, o.Lon), DistanceKm: o.DistanceKm, Slots: []Slot{}}
	if o.LabelEvidence != nil && o.LabelValidUntil != nil {
		out.Provider.InclusionLabel = &InclusionLabel{Evidence: InclusionLabelEvidence(*o.LabelEvidence),
			ValidUntil: openapi_types.Date{Time: *o.LabelValidUntil}}
	}
	if o.PhotoID != nil {
		u := catalog.PhotoPath(*o.PhotoID)
		out.PhotoUrl = &u
	}
	for _, s := range o.Slots {
		id := s.ID
		out.Slots = append(out.Slots, Slot{Id: &id, StartsAt: s.StartsAt, EndsAt: s.EndsAt, Capacity: s.Capacity})
	}
	return out
}

func providerOut(p catalog.Provider) Provider {
	out := Provider{Id: p.OrganisationID, LegalName: p.LegalName, LegalForm: ProviderLegalForm(p.LegalForm),
		VatNumber: p.VATNumber, FiscalCode: p.FiscalCode, Address: p.Address,
		Place: PlaceRef{Code: p.PlaceCode, Name: p.PlaceName, ProvinceCode: p.ProvinceCode},
		Email: p.Email, Phone: p.Phone, Website: p.Website, Description: p.Description, FundPledgeBps: p.FundPledgeBps,
		Status: ProviderStatus(p.Status), StatusNote: p.StatusNote,
		Stripe: StripeStatus{AccountId: p.AccountID, DetailsSubmitted: p.DetailsSubmitted, ChargesEnabled: p.ChargesEnabled,
			PayoutsEnabled: p.PayoutsEnabled, Ready: p.StripeStatus.Ready()}}
	if p.LogoPhotoID != nil {
		u := catalog.PhotoPath(*p.LogoPhotoID)
		out.LogoUrl = &u
	}
	return out
}
