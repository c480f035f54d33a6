package catalog

import "slices"

// TaxBucket is the rule of TUIR art. 51 under which a category's services
// are given to employees tax-free.
type TaxBucket string

// The tax buckets. Plans and redemption decide on them (e.g. only f-bis,
// f-ter and d-bis may be reimbursed against a receipt).
const (
	// TaxArt51F: art. 51 c.2 lett. f — education, recreation, social and
	// health care, worship (services of art. 100); provided directly.
	TaxArt51F TaxBucket = "art51_c2_f"
	// TaxArt51FBis: lett. f-bis — education and care of family members.
	TaxArt51FBis TaxBucket = "art51_c2_f_bis"
	// TaxArt51FTer: lett. f-ter — care of elderly or non-self-sufficient relatives.
	TaxArt51FTer TaxBucket = "art51_c2_f_ter"
	// TaxArt51DBis: lett. d-bis — public transport passes.
	TaxArt51DBis TaxBucket = "art51_c2_d_bis"
	// TaxFringe: art. 51 c.3 — fringe benefits, within the yearly ceiling.
	TaxFringe TaxBucket = "art51_c3_fringe"
)

// Category is one entry of the fixed taxonomy. The codes and buckets are
// mirrored in the catalog_categories table (migration 00300).
type Category struct {
	Code      string
	TaxBucket TaxBucket
	LabelIT   string
	LabelEN   string
	// Keywords are Italian synonyms added to every offering's search text,
	// so that "tata" finds a babysitting offering that never says "tata".
	Keywords string
}

// Categories is the taxonomy, in display order.
var categories = []Category{
	{"childcare", TaxArt51FBis, "Infanzia e baby sitter", "Childcare and babysitting",
		"infanzia bambini tata asilo nido micronido"},
	{"after_school", TaxArt51FBis, "Doposcuola e compiti", "After-school and homework help",
		"doposcuola compiti ripetizioni studio ragazzi scuola"},
	{"summer_camp", TaxArt51FBis, "Centri estivi", "Summer camps",
		"centro estivo campo estivo grest vacanze bambini ragazzi"},
	{"elder_care", TaxArt51FTer, "Assistenza anziani", "Elder care",
		"anziani assistenza domiciliare badante caregiver non autosufficienti"},
	{"physiotherapy", TaxArt51F, "Fisioterapia e riabilitazione", "Physiotherapy and rehabilitation",
		"fisioterapia riabilitazione massaggio posturale osteopatia"},
	{"psychological_support", TaxArt51F, "Supporto psicologico", "Psychological support",
		"psicologo psicologia psicoterapia counseling ascolto sostegno"},
	{"courses", TaxArt51F, "Corsi e formazione", "Courses and training",
		"corso corsi formazione lezioni lingue informatica"},
	{"sport", TaxArt51F, "Sport e benessere", "Sport and wellbeing",
		"sport palestra piscina benessere attività fisica"},
	{"culture", TaxArt51F, "Cultura e tempo libero", "Culture and leisure",
		"cultura teatro musica museo cinema biblioteca"},
	{"concierge", TaxFringe, "Commissioni e maggiordomo aziendale", "Concierge and errands",
		"commissioni maggiordomo aziendale spesa consegne pratiche"},
	{"laundry", TaxFringe, "Lavanderia e stireria", "Laundry and ironing",
		"lavanderia stireria bucato stiro sartoria"},
	{"transport_pass", TaxArt51DBis, "Abbonamenti trasporto pubblico", "Public transport passes",
		"abbonamento trasporto pubblico autobus treno mezzi"},
}

// Categories returns the taxonomy in display order.
func Categories() []Category { return slices.Clone(categories) }

// CategoryByCode returns the category with code, if it exists.
func CategoryByCode(code string) (Category, bool) {
	for _, c := range categories {
		if c.Code == code {
			return c, true
		}
	}
	return Category{}, false
}

// Label returns the category's name in lang ("it" or "en").
func (c Category) Label(lang string) string {
	if lang == "en" {
		return c.LabelEN
	}
	return c.LabelIT
}
