package catalog

import (
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/reciproca/reciproca/internal/apperr"
)

// LegalForm is what kind of body a provider is.
type LegalForm string

// The legal forms a provider may have.
const (
	FormSocialCooperative LegalForm = "social_cooperative"
	FormAssociation       LegalForm = "association"
	FormBusiness          LegalForm = "business"
)

// LegalForms returns the legal forms, in the order forms offer them.
func LegalForms() []LegalForm {
	return []LegalForm{FormSocialCooperative, FormAssociation, FormBusiness}
}

// ProviderStatus is where a provider stands in the platform admin's review.
type ProviderStatus string

// Provider statuses: only approved providers' offerings are visible.
const (
	ProviderPending  ProviderStatus = "pending"
	ProviderApproved ProviderStatus = "approved"
	ProviderRejected ProviderStatus = "rejected"
)

// Provider is the catalogue profile of an organisation of kind provider.
type Provider struct {
	OrganisationID uuid.UUID      `db:"organisation_id"`
	LegalName      string         `db:"legal_name"`
	LegalForm      LegalForm      `db:"legal_form"`
	VATNumber      *string        `db:"vat_number"`
	FiscalCode     string         `db:"fiscal_code"`
	Address        string         `db:"address"`
	PlaceCode      string         `db:"place_code"`
	PlaceName      string         `db:"place_name"`
	ProvinceCode   string         `db:"province_code"`
	Email          string         `db:"email"`
	Phone          string         `db:"phone"`
	Website        string         `db:"website"`
	Description    string         `db:"description"`
	LogoPhotoID    *uuid.UUID     `db:"logo_photo_id"`
	FundPledgeBps  int            `db:"fund_pledge_bps"`
	Status         ProviderStatus `db:"status"`
	StatusNote     string         `db:"status_note"`
	ReviewedAt     *time.Time     `db:"reviewed_at"`
	// RequeuedAt is set while a provider is pending again because its
	// legal details changed after a review (ReviewedAt is that review).
	RequeuedAt *time.Time `db:"requeued_at"`
	// Requeued reports that the save that returned this profile sent it
	// back to the approval queue.
	Requeued bool `db:"-"`
	StripeStatus
	CreatedAt time.Time `db:"created_at"`
	UpdatedAt time.Time `db:"updated_at"`
}

// StripeStatus is what Stripe last told us about a provider's Connect
// account (kept current by account.updated webhooks).
type StripeStatus struct {
	AccountID        *string    `db:"stripe_account_id"`
	DetailsSubmitted bool       `db:"stripe_details_submitted"`
	ChargesEnabled   bool       `db:"stripe_charges_enabled"`
	PayoutsEnabled   bool       `db:"stripe_payouts_enabled"`
	UpdatedAt        *time.Time `db:"stripe_updated_at"`
}

// Ready reports whether the provider can be paid out.
func (s StripeStatus) Ready() bool {
	return s.AccountID != nil && s.DetailsSubmitted && s.PayoutsEnabled
}

// ProfileInput is what a provider tells about itself.
type ProfileInput struct {
	LegalName   string
	LegalForm   LegalForm
	VATNumber   string // optional for associations without VAT
	FiscalCode  string
	Address     string
	PlaceCode   string
	Email       string
	Phone       string
	Website     string
	Description string
	// FundPledgeBps is an extra share of revenue, in basis points (0–5000),
	// that the provider pledges to the inclusion fund.
	FundPledgeBps int
	// Logo, when set, is an uploaded logo saved with the profile (checked
	// like a photo: a refused logo saves nothing).
	Logo []byte
}

// LegalDetailsDiffer reports whether in changes what the platform admin
// checked when approving p: legal name, legal form, VAT number, fiscal
// code. Description, contacts, address, pledge and logo are not.
func (in ProfileInput) LegalDetailsDiffer(p Provider) bool {
	vat := ""
	if p.VATNumber != nil {
		vat = *p.VATNumber
	}
	return in.LegalName != p.LegalName || in.LegalForm != p.LegalForm || in.VATNumber != vat || in.FiscalCode != p.FiscalCode
}

// Normalise trims fields and canonicalises tax identifiers.
func (in *ProfileInput) Normalise() {
	in.LegalName = strings.TrimSpace(in.LegalName)
	in.VATNumber = normaliseTaxID(in.VATNumber)
	in.FiscalCode = normaliseTaxID(in.FiscalCode)
	in.Address = strings.TrimSpace(in.Address)
	in.PlaceCode = strings.TrimSpace(in.PlaceCode)
	in.Email = strings.TrimSpace(in.Email)
	in.Phone = strings.TrimSpace(in.Phone)
	in.Website = strings.TrimSpace(in.Website)
	in.Description = strings.TrimSpace(in.Description)
}

// Validate checks the profile; the error names every field at fault
// (details.fields), the first also as details.field with its message.
func (in ProfileInput) Validate() error {
	vat := oneOf(in.VATNumber == "" && in.LegalForm != FormAssociation, "vat_number", "a VAT number is required for co-operatives and businesses")
	if in.VATNumber != "" && !ValidVATNumber(in.VATNumber) {
		vat = invalidField("vat_number", "the VAT number is not valid: it must be 11 digits with a correct check digit")
	}
	return apperr.AllInvalid(
		oneOf(len(in.LegalName) < 2 || len(in.LegalName) > 200, "legal_name", "the legal name must be 2 to 200 characters"),
		oneOf(!slices.Contains(LegalForms(), in.LegalForm), "legal_form", "the legal form must be social_cooperative, association or business"),
		vat,
		oneOf(!ValidFiscalCode(in.FiscalCode), "fiscal_code", "the fiscal code is not valid: it must be 11 digits or 16 characters with a correct check character"),
		oneOf(in.PlaceCode == "", "place_code", "the municipality is required"),
		oneOf(in.Email != "" && !validEmail(in.Email), "email", "the e-mail address is not valid"),
		oneOf(len(in.Description) > 4000, "description", "the description must be at most 4000 characters"),
		oneOf(in.FundPledgeBps < 0 || in.FundPledgeBps > 5000, "fund_pledge_bps", "the pledge to the inclusion fund must be between 0% and 50%"),
		oneOf(in.Website != "" && !strings.HasPrefix(in.Website, "https://") && !strings.HasPrefix(in.Website, "http://"), "website", "the website must start with https://"))
}

func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s
}

// invalidField is an invalid error naming the field at fault.
func invalidField(field, msg string) error {
	return apperr.New(apperr.Invalid, "%s", msg).With("field", field)
}
