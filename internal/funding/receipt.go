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

func receiptPDF(issuer string, t TopUp, paid time.Time, refs []string) ([]byte, error) {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetTitle("Ricevuta di ricarica "+t.ID.String(), false)
	pdf.SetAuthor(issuer, true)
	pdf.SetCreationDate(paid)
	tr := pdf.UnicodeTranslatorFromDescriptor("") // UTF-8 → cp1252: €, à, è …
	pdf.AddPage()
	pdf.SetFont("Helvetica", "B", 18)
	pdf.Cell(0, 10, tr("Ricevuta di ricarica del budget welfare"))
	pdf.Ln(8)
	pdf.SetFont("Helvetica", "", 10)
	pdf.Cell(0, 6, tr("Welfare budget top-up receipt"))
	pdf.Ln(12)
	row := func(label, value string) {
		pdf.SetFont("Helvetica", "B", 11)
		pdf.CellFormat(55, 8, tr(label), "", 0, "", false, 0, "")
		pdf.SetFont("Helvetica", "", 11)
		pdf.MultiCell(0, 8, tr(value), "", "", false)
	}
	row("Emessa da", issuer)
	row("Azienda", t.Company)
	row("Numero", t.ID.String())
	row("Data", paid.In(rome).Format("02/01/2006 15:04"))
	row("Importo accreditato", itEuro(t.Credited))
	if t.Refunded > 0 {
		row("Rimborsato", itEuro(t.Refunded))
	}
	row("Pagamento", strings.Join(refs, "\n"))
	pdf.Ln(10)
	pdf.SetFont("Helvetica", "I", 9)
	pdf.MultiCell(0, 5, tr("Questa ricevuta attesta l'accredito sul budget welfare dell'azienda. Non è una fattura: "+
		"la fattura elettronica è emessa dal sistema contabile dell'operatore."), "", "", false)
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, apperr.Wrap(err, "writing the receipt")
	}
	return buf.Bytes(), nil
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
