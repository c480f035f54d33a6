package catalog

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"
)

// Organisations is what the catalogue needs from identity: what kind an
// organisation is (only a provider organisation gets a provider profile),
// and the platform's audit log, where the catalogue's decisions (provider
// reviews, inclusion labels) are recorded. identity implements it; the
// catalogue never reads or writes identity's tables itself.
type Organisations interface {
	// OrgKind returns the kind of organisation orgID; not_found when there
	// is none.
	OrgKind(ctx context.Context, orgID uuid.UUID) (auth.OrgKind, error)
	// RecordEvent appends event, done by actor about organisation orgID,
	// to the audit log in the caller's transaction q.
	RecordEvent(ctx context.Context, q sqlx.ExecerContext, event string, actor *auth.Principal, orgID uuid.UUID, details map[string]any) error
}

// Service is the catalogue's use cases.
type Service struct {
	db      *sqlx.DB
	connect ConnectAccounts
	orgs    Organisations
	now     func() time.Time
	// photoSlots bounds concurrent photo processing: decoding a large
	// photo takes a core and up to ~200 MB, so more at once would only
	// add memory, not throughput.
	photoSlots chan struct{}
	// expansions caches what search texts expand to (search_expand.go).
	expansions *expansions
}

// NewService returns the catalogue service. connect may be nil, in which
// case Stripe onboarding answers internal.
func NewService(dbx *sqlx.DB, connect ConnectAccounts, orgs Organisations) *Service {
	return &Service{db: dbx, connect: connect, orgs: orgs, now: time.Now, photoSlots: make(chan struct{}, max(1, runtime.GOMAXPROCS(0))),
		expansions: newExpansions()}
}

// processPhoto is ProcessPhoto, waiting for a free processing slot.
func (s *Service) processPhoto(ctx context.Context, data []byte) (Photo, error) {
	select {
	case s.photoSlots <- struct{}{}:
		defer func() { <-s.photoSlots }()
	case <-ctx.Done():
		return Photo{}, apperr.Wrap(ctx.Err(), "waiting to process a photo")
	}
	return ProcessPhoto(data)
}

var (
	errSignIn          = apperr.New(apperr.Unauthorized, "sign in to manage a provider")
	errNotProvider     = apperr.New(apperr.Forbidden, "only a provider's staff or a platform admin can do this")
	errOnlyAdmin       = apperr.New(apperr.Forbidden, "only a platform admin can do this")
	errProviderMissing = apperr.New(apperr.NotFound, "provider not found")
)

// manages checks that p may manage provider providerID: its own staff or a
// platform admin. Another provider's staff get not_found, so that they
// cannot even learn that it exists; other roles get forbidden.
func manages(p *auth.Principal, providerID uuid.UUID) error {
	switch {
	case p == nil:
		return errSignIn
	case p.Has(auth.RolePlatformAdmin):
		return nil
	case p.Has(auth.RoleProviderStaff) && p.OrgKind == auth.OrgProvider:
		if p.OrgID == providerID {
			return nil
		}
		return errProviderMissing
	}
	return errNotProvider
}

// owner is the provider whose rows p's queries are limited to: nil (any)
// for a platform admin.
func owner(p *auth.Principal) *uuid.UUID {
	if p.Has(auth.RolePlatformAdmin) {
		return nil
	}
	id := p.OrgID
	return &id
}

// Categories returns the fixed taxonomy.
func (s *Service) Categories() []Category { return Categories() }

// FindPlaces returns up to limit municipalities matching a name (accents
// and case ignored, near misses allowed) or a postcode. An empty query
// returns nothing.
func (s *Service) FindPlaces(ctx context.Context, text string, limit int) ([]Place, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return []Place{}, nil
	}
	if len(text) > 80 {
		return nil, invalidField("q", "the place name must be at most 80 characters")
	}
	if limit <= 0 || limit > 50 {
		limit = 10
	}
	return findPlaces(ctx, s.db, text, limit)
}

// Place returns a municipality by ISTAT code. Errors: invalid (unknown code).
func (s *Service) Place(ctx context.Context, code string) (Place, error) {
	return getPlace(ctx, s.db, code)
}

// SaveProfile creates or updates the profile of provider providerID (an
// organisation of kind provider), with in.Logo when it is set (checked and
// resized first: a refused logo saves nothing). A new profile waits for
// approval. Changing the legal details (legal name, legal form, VAT number,
// fiscal code) of a reviewed provider sends it back to the approval queue,
// so that its offerings disappear until a platform admin approves it
// again; the returned profile then has Requeued set. Other edits
// (description, contacts, address, pledge, logo) keep its status.
// Errors: unauthorized, forbidden, not_found (another provider, or not a
// provider organisation), invalid (first field at fault; nothing saved).
func (s *Service) SaveProfile(ctx context.Context, p *auth.Principal, providerID uuid.UUID, in ProfileInput) (Provider, error) {
	if err := manages(p, providerID); err != nil {
		return Provider{}, err
	}
	in.Normalise()
	if err := in.Validate(); err != nil {
		return Provider{}, err
	}
	logo, err := s.optionalPhoto(ctx, in.Logo)
	if err != nil {
		return Provider{}, renameField(err, "logo")
	}
	// An organisation's kind never changes, so it is read before the
	// transaction.
	kind, err := s.orgs.OrgKind(ctx, providerID)
	if apperr.Is(err, apperr.NotFound) || (err == nil && kind != auth.OrgProvider) {
		return Provider{}, errProviderMissing
	}
	if err != nil {
		return Provider{}, err
	}
	var out Provider
	err = db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if _, err := getPlace(ctx, tx, in.PlaceCode); err != nil {
			return err
		}
		before, err := getProvider(ctx, tx, providerID, true)
		exists := err == nil
		if err != nil && !apperr.Is(err, apperr.NotFound) {
			return err
		}
		if err := upsertProvider(ctx, tx, providerID, in); err != nil {
			return err
		}
		requeue := exists && before.Status != ProviderPending && in.LegalDetailsDiffer(before)
		if requeue {
			if err := requeueProvider(ctx, tx, providerID); err != nil {
				return err
			}
		}
		if logo != nil {
			if err := storeLogo(ctx, tx, providerID, logo); err != nil {
				return err
			}
		}
		out, err = getProvider(ctx, tx, providerID, false)
		out.Requeued = requeue
		return err
	})
	return out, err
}

// Provider returns provider providerID's profile for its staff or a
// platform admin. Errors: unauthorized, forbidden, not_found.
func (s *Service) Provider(ctx context.Context, p *auth.Principal, providerID uuid.UUID) (Provider, error) {
	if err := manages(p, providerID); err != nil {
		return Provider{}, err
	}
	return getProvider(ctx, s.db, providerID, false)
}

// PublicProvider returns an approved provider's profile, for everyone.
// Errors: not_found (unknown or not approved).
func (s *Service) PublicProvider(ctx context.Context, providerID uuid.UUID) (Provider, error) {
	pr, err := getProvider(ctx, s.db, providerID, false)
	if err == nil && pr.Status != ProviderApproved {
		return Provider{}, errProviderMissing
	}
	return pr, err
}

// Providers lists providers, optionally only those with status, for a
// platform admin's review queue. Errors: unauthorized, forbidden.
func (s *Service) Providers(ctx context.Context, p *auth.Principal, status ProviderStatus) ([]Provider, error) {
	if err := onlyAdmin(p); err != nil {
		return nil, err
	}
	switch status {
	case "", ProviderPending, ProviderApproved, ProviderRejected:
	default:
		return nil, invalidField("status", "status must be pending, approved or rejected")
	}
	return listProviders(ctx, s.db, status)
}

// ReviewProvider approves or rejects a provider; only approved providers'
// offerings are visible. Errors: unauthorized, forbidden (not a platform
// admin), not_found, invalid (a rejection needs a note).
func (s *Service) ReviewProvider(ctx context.Context, p *auth.Principal, providerID uuid.UUID, approve bool, note string) (Provider, error) {
	if err := onlyAdmin(p); err != nil {
		return Provider{}, err
	}
	note = strings.TrimSpace(note)
	if !approve && note == "" {
		return Provider{}, invalidField("note", "say why the provider is rejected, so that they can fix it")
	}
	if len(note) > 2000 {
		return Provider{}, invalidField("note", "the note must be at most 2000 characters")
	}
	status := ProviderRejected
	if approve {
		status = ProviderApproved
	}
	var out Provider
	err := db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if _, err := getProvider(ctx, tx, providerID, true); err != nil {
			return err
		}
		if err := setProviderStatus(ctx, tx, providerID, status, note, p.UserID); err != nil {
			return err
		}
		event := EventProviderRejected
		if approve {
			event = EventProviderApproved
		}
		if err := s.orgs.RecordEvent(ctx, tx, event, p, providerID, map[string]any{"note": note}); err != nil {
			return err
		}
		var err error
		out, err = getProvider(ctx, tx, providerID, false)
		return err
	})
	return out, err
}

// resolve checks the input against the database: the municipality exists,
// and the point defaults to its seat.
func resolve(ctx context.Context, q sqlx.ExtContext, in OfferingInput) (resolvedOffering, error) {
	pl, err := getPlace(ctx, q, in.PlaceCode)
	if err != nil {
		return resolvedOffering{}, err
	}
	r := resolvedOffering{OfferingInput: in, lat: pl.Lat, lon: pl.Lon}
	if in.Lat != nil {
		r.lat, r.lon = *in.Lat, *in.Lon
	}
	c, _ := CategoryByCode(in.Category)
	r.keywords = c.LabelIT + " " + c.Keywords
	return r, nil
}

// CreateOffering adds an offering to provider providerID, with in.Photo
// when it is set (checked and resized first: a refused photo saves
// nothing). A retry with the same idempotency key (the caller's own, see
// db.Idempotent) returns the offering the first call made.
// Errors: unauthorized, forbidden, not_found (no such provider, or another
// provider's), invalid (first field at fault; nothing saved), conflict (the
// key was used for another offering, or is in use).
func (s *Service) CreateOffering(ctx context.Context, p *auth.Principal, providerID uuid.UUID, in OfferingInput, idempotencyKey string) (Offering, error) {
	if err := manages(p, providerID); err != nil {
		return Offering{}, err
	}
	in.Normalise()
	if err := in.Validate(); err != nil {
		return Offering{}, err
	}
	if err := db.CheckKey(idempotencyKey); err != nil {
		return Offering{}, err
	}
	ph, err := s.optionalPhoto(ctx, in.Photo)
	if err != nil {
		return Offering{}, err
	}
	var id uuid.UUID
	scope := db.Scope{Caller: p.UserID, Operation: "catalog.create_offering"}
	_, err = db.Idempotent(ctx, s.db, scope, idempotencyKey, createRequest(providerID, in), &id, func(tx *sqlx.Tx) error {
		if _, err := getProvider(ctx, tx, providerID, false); err != nil {
			return err
		}
		var err error
		if id, err = addOffering(ctx, tx, providerID, in); err != nil {
			return err
		}
		return attachPhoto(ctx, tx, providerID, id, ph)
	})
	if err != nil {
		return Offering{}, err
	}
	return s.ManagedOffering(ctx, p, id)
}

// createRequest is what identifies a request to create an offering: the
// provider and the input, with the photo by its digest.
func createRequest(providerID uuid.UUID, in OfferingInput) any {
	var photo string
	if in.Photo != nil {
		photo = db.Digest(in.Photo)
	}
	in.Photo = nil
	return struct {
		Provider uuid.UUID
		Input    OfferingInput
		Photo    string
	}{providerID, in, photo}
}

// optionalPhoto processes data, if any.
func (s *Service) optionalPhoto(ctx context.Context, data []byte) (*Photo, error) {
	if data == nil {
		return nil, nil
	}
	ph, err := s.processPhoto(ctx, data)
	return &ph, err
}

// attachPhoto stores ph (if any) as the offering's photo.
func attachPhoto(ctx context.Context, q sqlx.ExtContext, providerID, offeringID uuid.UUID, ph *Photo) error {
	if ph == nil {
		return nil
	}
	var err error
	if ph.ID, err = insertPhoto(ctx, q, providerID, *ph); err != nil {
		return err
	}
	return setOfferingPhoto(ctx, q, offeringID, ph.ID)
}

// UpdateOffering replaces an offering's details (and its slots), and its
// photo when in.Photo is set (checked first: a refused photo saves nothing).
// Errors: unauthorized, forbidden, not_found (unknown or another
// provider's), invalid (nothing saved).
func (s *Service) UpdateOffering(ctx context.Context, p *auth.Principal, id uuid.UUID, in OfferingInput) (Offering, error) {
	if err := s.checkOffering(ctx, p, id); err != nil {
		return Offering{}, err
	}
	in.Normalise()
	if err := in.Validate(); err != nil {
		return Offering{}, err
	}
	ph, err := s.optionalPhoto(ctx, in.Photo)
	if err != nil {
		return Offering{}, err
	}
	err = db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		o, err := getOffering(ctx, tx, id, owner(p))
		if err != nil {
			return err
		}
		r, err := resolve(ctx, tx, in)
		if err != nil {
			return err
		}
		if err := updateOffering(ctx, tx, id, r); err != nil {
			return err
		}
		if err := logOfferingChanges(ctx, tx, p, o, in); err != nil {
			return err
		}
		if err := replaceSlots(ctx, tx, id, in.Slots); err != nil {
			return err
		}
		return attachPhoto(ctx, tx, o.ProviderID, id, ph)
	})
	if err != nil {
		return Offering{}, err
	}
	return s.ManagedOffering(ctx, p, id)
}

// SetOfferingStatus pauses or resumes an offering.
// Errors: unauthorized, forbidden, not_found, invalid.
func (s *Service) SetOfferingStatus(ctx context.Context, p *auth.Principal, id uuid.UUID, status OfferingStatus) (Offering, error) {
	if err := s.checkOffering(ctx, p, id); err != nil {
		return Offering{}, err
	}
	if status != OfferingActive && status != OfferingPaused {
		return Offering{}, invalidField("status", "status must be active or paused")
	}
	if err := setOfferingStatus(ctx, s.db, id, status); err != nil {
		return Offering{}, err
	}
	return s.ManagedOffering(ctx, p, id)
}

// checkOffering checks p may manage offering id: another provider's
// offering answers not_found.
func (s *Service) checkOffering(ctx context.Context, p *auth.Principal, id uuid.UUID) error {
	switch {
	case p == nil:
		return errSignIn
	case !p.Has(auth.RolePlatformAdmin) && !(p.Has(auth.RoleProviderStaff) && p.OrgKind == auth.OrgProvider):
		return errNotProvider
	}
	_, err := getOffering(ctx, s.db, id, owner(p))
	return err
}

// ManagedOffering returns one of the caller's offerings, whatever its
// status, with its upcoming slots. Errors: unauthorized, forbidden, not_found.
func (s *Service) ManagedOffering(ctx context.Context, p *auth.Principal, id uuid.UUID) (Offering, error) {
	if err := s.checkOffering(ctx, p, id); err != nil {
		return Offering{}, err
	}
	o, err := getOffering(ctx, s.db, id, owner(p))
	if err != nil {
		return Offering{}, err
	}
	o.Slots, err = listSlots(ctx, s.db, id, time.Time{})
	return o, err
}

// ProviderOfferings lists all of a provider's offerings, paused included.
// Errors: unauthorized, forbidden, not_found.
func (s *Service) ProviderOfferings(ctx context.Context, p *auth.Principal, providerID uuid.UUID) ([]Offering, error) {
	if err := manages(p, providerID); err != nil {
		return nil, err
	}
	if _, err := getProvider(ctx, s.db, providerID, false); err != nil {
		return nil, err
	}
	return listProviderOfferings(ctx, s.db, providerID)
}

// Offering returns a visible offering (active, approved provider) with its
// upcoming slots, for anyone. Errors: not_found.
func (s *Service) Offering(ctx context.Context, id uuid.UUID) (Offering, error) {
	o, err := getVisibleOffering(ctx, s.db, id)
	if err != nil {
		return Offering{}, err
	}
	o.Slots, err = listSlots(ctx, s.db, id, s.now())
	return o, err
}

// Search finds visible offerings. Errors: invalid (the parameter at fault).
func (s *Service) Search(ctx context.Context, q SearchQuery) (SearchPage, error) {
	q.normalise()
	if err := q.Validate(); err != nil {
		return SearchPage{}, err
	}
	return search(ctx, s.db, s.expansions, q)
}

// AddOfferingPhoto checks, resizes and stores a photo and makes it the
// offering's photo. Errors: unauthorized, forbidden, not_found, invalid
// (not an image, too large; nothing changed).
func (s *Service) AddOfferingPhoto(ctx context.Context, p *auth.Principal, offeringID uuid.UUID, data []byte) (Photo, error) {
	if err := s.checkOffering(ctx, p, offeringID); err != nil {
		return Photo{}, err
	}
	ph, err := s.processPhoto(ctx, data)
	if err != nil {
		return Photo{}, err
	}
	err = db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		o, err := getOffering(ctx, tx, offeringID, owner(p))
		if err != nil {
			return err
		}
		return attachPhoto(ctx, tx, o.ProviderID, offeringID, &ph)
	})
	return ph, err
}

// SetLogo checks, resizes and stores a provider's logo.
// Errors: unauthorized, forbidden, not_found, invalid.
func (s *Service) SetLogo(ctx context.Context, p *auth.Principal, providerID uuid.UUID, data []byte) (Photo, error) {
	if err := manages(p, providerID); err != nil {
		return Photo{}, err
	}
	ph, err := s.processPhoto(ctx, data)
	if err != nil {
		return Photo{}, err
	}
	err = db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if _, err := getProvider(ctx, tx, providerID, true); err != nil {
			return err
		}
		return storeLogo(ctx, tx, providerID, &ph)
	})
	return ph, err
}

// storeLogo stores ph and makes it the provider's logo.
func storeLogo(ctx context.Context, q sqlx.ExtContext, providerID uuid.UUID, ph *Photo) error {
	var err error
	if ph.ID, err = insertPhoto(ctx, q, providerID, *ph); err != nil {
		return err
	}
	return setProviderLogo(ctx, q, providerID, ph.ID)
}

// renameField makes an invalid error about a photo name the form field
// it came from (a logo is checked like a photo).
func renameField(err error, field string) error {
	var ae *apperr.Error
	if errors.As(err, &ae) && ae.Code == apperr.Invalid {
		return ae.With("field", field)
	}
	return err
}

// Photo returns a stored photo. Photos are immutable: a new upload gets a
// new id, so they can be cached forever. Errors: not_found.
func (s *Service) Photo(ctx context.Context, id uuid.UUID) (Photo, error) {
	return getPhoto(ctx, s.db, id)
}
