package funding

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"
	"github.com/google/uuid"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
)

// Receipt is the receipt ("ricevuta") of a top-up as PDF: the company, the
// amount credited, the date and the payment reference. It is not an
// invoice: e-invoicing happens in the operator's accounting system.
//
// Errors: not_found (also another company's top-up), conflict (nothing
// credited yet).
func (s *Service) Receipt(ctx context.Context, p *auth.Principal, id uuid.UUID) ([]byte, error) {
	t, err := s.TopUp(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if t.Credited == 0 {
		return nil, apperr.New(apperr.Conflict, "no money has been credited for this top-up yet: there is nothing to receipt")
	}
	var refs []string
	switch t.Channel {
	case Card:
		refs = append(refs, "Pagamento con carta (Stripe)")
		if t.PaymentIntent != nil {
			refs = append(refs, "Riferimento pagamento: "+*t.PaymentIntent)
		}
	case Bank:
		refs = append(refs, "Bonifico bancario, riferimento "+deref(t.Reference))
		receipts, err := s.BankReceipts(ctx, p, t.ID)
		if err != nil {
			return nil, err
		}
		for _, r := range receipts {
			if r.Status == "credited" {
				refs = append(refs, fmt.Sprintf("CRO/TRN %s, valuta %s: %s", r.CRO, r.ValueDate.Format("02/01/2006"), itEuro(r.Amount)))
			}
		}
	}
	paid := t.CreatedAt
	if t.PaidAt != nil {
		paid = *t.PaidAt
	}
	return receiptPDF(s.settings.Beneficiary, t, paid, refs)
}

// document is a one-page-or-more A4 PDF with a title in Italian and
// English; tr turns UTF-8 into the core fonts' code page (€, à, è …).
type document struct {
	*fpdf.Fpdf
	tr func(string) string
}

func newDocument(issuer, title, subtitle string, at time.Time) document {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetTitle(title, false)
	pdf.SetAuthor(issuer, true)
	pdf.SetCreationDate(at)
	d := document{Fpdf: pdf, tr: pdf.UnicodeTranslatorFromDescriptor("")}
	pdf.AddPage()
	pdf.SetFont("Helvetica", "B", 18)
	pdf.Cell(0, 10, d.tr(strings.SplitN(title, " – ", 2)[0]))
	pdf.Ln(8)
	pdf.SetFont("Helvetica", "", 10)
	pdf.Cell(0, 6, d.tr(subtitle))
	pdf.Ln(12)
	return d
}

// row writes a label and its value.
func (d document) row(label, value string) {
	d.SetFont("Helvetica", "B", 11)
	d.CellFormat(55, 8, d.tr(label), "", 0, "", false, 0, "")
	d.SetFont("Helvetica", "", 11)
	d.MultiCell(0, 8, d.tr(value), "", "", false)
}

// footer writes a note in small italics and returns the PDF's bytes.
func (d document) footer(note string) ([]byte, error) {
	d.Ln(10)
	d.SetFont("Helvetica", "I", 9)
	d.MultiCell(0, 5, d.tr(note), "", "", false)
	var buf bytes.Buffer
	if err := d.Output(&buf); err != nil {
		return nil, apperr.Wrap(err, "writing the PDF")
	}
	return buf.Bytes(), nil
}

func receiptPDF(issuer string, t TopUp, paid time.Time, refs []string) ([]byte, error) {
	d := newDocument(issuer, "Ricevuta di ricarica del budget welfare – "+t.ID.String(), "Welfare budget top-up receipt", paid)
	d.row("Emessa da", issuer)
	d.row("Azienda", t.Company)
	d.row("Numero", t.ID.String())
	d.row("Data", paid.In(rome).Format("02/01/2006 15:04"))
	d.row("Importo accreditato", itEuro(t.Credited))
	if t.Refunded > 0 {
		d.row("Rimborsato", itEuro(t.Refunded))
	}
	d.row("Pagamento", strings.Join(refs, "\n"))
	return d.footer("Questa ricevuta attesta l'accredito sul budget welfare dell'azienda. Non è una fattura: " +
		"la fattura elettronica è emessa dal sistema contabile dell'operatore.")
}

// itEuro writes cents the Italian way: € 1.234,56.
func itEuro(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	whole := fmt.Sprint(cents / 100)
	var b strings.Builder
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(c)
	}
	return fmt.Sprintf("%s€ %s,%02d", sign, b.String(), cents%100)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
