package catalog

import (
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
)

// The inclusion label ("Dà lavoro a persone dei percorsi di inclusione") is
// the catalogue's main trust claim, so nobody grants it to themselves: a
// provider asks for it with evidence, a platform admin checks the evidence
// and grants it until a date, and it stops showing by itself the day after
// (judged whenever it is read, not by a job). It belongs to the provider:
// every offering of a labelled provider shows it.
//
// The evidence never identifies a worker. Who was hired from an inclusion
// pathway is special-category data (GDPR art. 9), so the request holds a
// register number or counts, and nothing a name or a document could go in.

// LabelEvidence is what a provider offers as proof.
type LabelEvidence string

// The kinds of evidence.
const (
	// EvidenceCoopB is registration as a type-B social co-operative in the
	// Albo delle società cooperative (social co-operatives section,
	// category B), with its number.
	EvidenceCoopB LabelEvidence = "social_cooperative_b"
	// EvidenceSelfDeclaration is a self-declaration under DPR 445/2000 of
	// how many people were hired from inclusion pathways: counts only.
	EvidenceSelfDeclaration LabelEvidence = "self_declaration"
)

// LabelStatus is where a label request stands.
type LabelStatus string

// Label request statuses: pending → approved (until a date) | rejected
// (with a note for the provider).
const (
	LabelPending  LabelStatus = "pending"
	LabelApproved LabelStatus = "approved"
	LabelRejected LabelStatus = "rejected"
)

// MaxLabelYears bounds how far ahead a label may be granted: evidence is
// checked again at least this often.
const MaxLabelYears = 3

// LabelRequest is a provider's request for the inclusion label and, once
// decided, the decision.
type LabelRequest struct {
	ID           uuid.UUID `db:"id"`
	ProviderID   uuid.UUID `db:"provider_id"`
	ProviderName string    `db:"provider_name"`
	ProviderForm LegalForm `db:"provider_form"`
	// Evidence is nil for a label set on offerings before labels were
	// reviewed: it waits for the provider's evidence (LegacyLabel says
	// which label it was).
	Evidence       *LabelEvidence `db:"evidence"`
	AlboNumber     *string        `db:"albo_number"`
	InclusionHires *int           `db:"inclusion_hires"`
	TotalStaff     *int           `db:"total_staff"`
	LegacyLabel    *string        `db:"legacy_label"`
	RequestedAt    time.Time      `db:"requested_at"`
	Status         LabelStatus    `db:"status"`
	// ValidUntil is the last day (Italian time) an approved label shows.
	ValidUntil *time.Time `db:"valid_until"`
	// Note is the platform admin's reason, shown to the provider.
	Note      string     `db:"decision_note"`
	DecidedAt *time.Time `db:"decided_at"`
}

// LabelState is what a provider sees of its label: the label that shows
// today (nil when none) and its latest request.
type LabelState struct {
	Current *LabelRequest
	Latest  *LabelRequest
}

// LabelInput is a provider's evidence. Only the fields of the chosen
// evidence are kept.
type LabelInput struct {
	Evidence   LabelEvidence
	AlboNumber string
	// InclusionHires and TotalStaff are counts, never names.
	InclusionHires int
	TotalStaff     int
	// Declared is the signatory's "I declare, under DPR 445/2000 …"; a
	// self-declaration needs it.
	Declared bool
}

// alboNumberRE is a number of the Albo delle società cooperative: the
// letter A and six digits.
var alboNumberRE = regexp.MustCompile(`^A[0-9]{6}$`)

// Normalise canonicalises the register number and drops the fields the
// chosen evidence does not use.
func (in *LabelInput) Normalise() {
	in.AlboNumber = strings.ToUpper(strings.Join(strings.Fields(in.AlboNumber), ""))
	switch in.Evidence {
	case EvidenceCoopB:
		in.InclusionHires, in.TotalStaff, in.Declared = 0, 0, false
	case EvidenceSelfDeclaration:
		in.AlboNumber = ""
	}
}

// Validate checks the evidence; the error names the first field at fault.
// form is the provider's legal form: only a social co-operative can be
// registered in category B.
func (in LabelInput) Validate(form LegalForm) error {
	switch in.Evidence {
	case EvidenceCoopB:
		switch {
		case form != FormSocialCooperative:
			return invalidField("evidence", "only a social co-operative can be registered in category B: use the self-declaration")
		case !alboNumberRE.MatchString(in.AlboNumber):
			return invalidField("albo_number", "the Albo number is the letter A and six digits, e.g. A123456")
		}
	case EvidenceSelfDeclaration:
		switch {
		case in.InclusionHires < 1 || in.InclusionHires > 100000:
			return invalidField("inclusion_hires", "give how many people were hired from inclusion pathways (at least 1)")
		case in.TotalStaff < in.InclusionHires || in.TotalStaff > 100000:
			return invalidField("total_staff", "the total staff must be at least the number hired from inclusion pathways")
		case !in.Declared:
			return invalidField("declaration", "confirm the declaration under DPR 445/2000")
		}
	default:
		return invalidField("evidence", "the evidence must be social_cooperative_b or self_declaration")
	}
	return nil
}

// LabelDecision is a platform admin's decision on a request.
type LabelDecision struct {
	Approve bool
	// ValidUntil is the last day the label shows; an approval needs it.
	ValidUntil time.Time
	// Note is the reason, shown to the provider; a rejection needs it.
	Note string
}

// validate checks the decision at instant now.
func (d *LabelDecision) validate(now time.Time) error {
	d.Note = strings.TrimSpace(d.Note)
	today := italianDay(now)
	d.ValidUntil = calendarDay(d.ValidUntil)
	switch {
	case !d.Approve && d.Note == "":
		return invalidField("note", "say why the label is refused, so that the provider can fix it")
	case len(d.Note) > 2000:
		return invalidField("note", "the note must be at most 2000 characters")
	case !d.Approve:
		d.ValidUntil = time.Time{}
	case d.ValidUntil.Year() < 2000:
		return invalidField("valid_until", "an approved label needs an expiry date")
	case !d.ValidUntil.After(today):
		return invalidField("valid_until", "the expiry date must be after today")
	case d.ValidUntil.After(today.AddDate(MaxLabelYears, 0, 0)):
		return invalidField("valid_until", "the expiry date must be within three years")
	}
	return nil
}

// italianTime is the zone label dates are read in: a label valid until
// 31 December shows until midnight in Italy.
var italianTime = func() *time.Location {
	if l, err := time.LoadLocation("Europe/Rome"); err == nil {
		return l
	}
	return time.FixedZone("CET", 3600)
}()

// italianDay is the calendar day in Italy at instant t, as a UTC midnight
// (how dates are compared and how PostgreSQL returns them).
func italianDay(t time.Time) time.Time {
	y, m, d := t.In(italianTime).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// calendarDay is the date d stands for (its year, month and day in UTC,
// as a form or the API gives it), as a UTC midnight.
func calendarDay(d time.Time) time.Time {
	y, m, dd := d.UTC().Date()
	return time.Date(y, m, dd, 0, 0, 0, 0, time.UTC)
}
