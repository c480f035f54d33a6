package funding

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/ledger"
)

// ContractEndStatement is the closing statement of a company's budget as
// PDF: every movement of the budget up to and including the return, and
// the balance left (zero, unless money arrived after the return).
//
// Errors: not_found (also another company's).
func (s *Service) ContractEndStatement(ctx context.Context, p *auth.Principal, id uuid.UUID) ([]byte, error) {
	c, err := s.contractEndBy(ctx, `c.id = $1`, id)
	if err != nil {
		return nil, err
	}
	if _, err := scopeCompany(p, c.CompanyID); err != nil {
		return nil, apperr.New(apperr.NotFound, "contract end not found")
	}
	entries, _, err := ledger.Entries(ctx, s.db, BudgetAccount(c.CompanyID), 0, 1000)
	if err != nil {
		return nil, err
	}
	bal, err := ledger.GetBalance(ctx, s.db, BudgetAccount(c.CompanyID))
	if err != nil {
		return nil, err
	}
	d := newDocument(s.settings.Beneficiary, "Estratto conto di chiusura del budget welfare – "+c.ID.String(),
		"Closing statement of the welfare budget", c.DoneAt)
	d.row("Azienda", c.Company)
	d.row("Restituito", fmt.Sprintf("%s con bonifico a %s, CRO/TRN %s, valuta %s", itEuro(c.Amount), c.IBAN, c.CRO,
		c.ValueDate.Format("02/01/2006")))
	d.row("Saldo residuo", itEuro(bal.Posted))
	d.Ln(4)
	d.SetFont("Helvetica", "B", 10)
	for i, h := range []string{"Data", "Movimento", "Importo"} {
		d.CellFormat([]float64{40, 100, 40}[i], 7, d.tr(h), "B", 0, "", false, 0, "")
	}
	d.Ln(-1)
	d.SetFont("Helvetica", "", 10)
	for i := len(entries) - 1; i >= 0; i-- { // oldest first
		e := entries[i]
		d.CellFormat(40, 6, e.EffectiveAt.In(rome).Format("02/01/2006"), "", 0, "", false, 0, "")
		d.CellFormat(100, 6, d.tr(movementLabel(e.Kind)), "", 0, "", false, 0, "")
		d.CellFormat(40, 6, d.tr(itEuro(e.Delta)), "", 1, "R", false, 0, "")
	}
	return d.footer("Estratto del registro contabile (ledger) della piattaforma. Non è una fattura.")
}

// movementLabel names a budget movement in Italian for documents.
func movementLabel(kind string) string {
	switch kind {
	case "topup":
		return "Ricarica"
	case "topup.refund":
		return "Rimborso del pagamento"
	case "topup.dispute":
		return "Contestazione del pagamento"
	case "topup.open_item":
		return "Chiusura partita aperta"
	case "contract_end":
		return "Restituzione a fine contratto"
	case "allocation":
		return "Assegnazione ai dipendenti"
	}
	return "Movimento (" + kind + ")"
}
