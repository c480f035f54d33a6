package funding

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// StatementLine is one line of a bank statement: the value date, the
// amount (positive: money in), the transfer's description (where the RF
// reference is) and the bank's transaction reference (CRO/TRN).
type StatementLine struct {
	Line      int
	Date      time.Time
	Amount    int64
	Reference string
	CRO       string
}

// maxStatementLines bounds one imported statement.
const maxStatementLines = 50_000

// ParseStatement reads a bank statement exported as CSV: the columns date,
// amount, reference, CRO in this order, separated by commas or
// semicolons, with or without a header line. Dates are YYYY-MM-DD or
// DD/MM/YYYY; amounts are euro ("1.234,56", "-50.00").
//
// Errors: invalid, with the line number.
func ParseStatement(data []byte) ([]StatementLine, error) {
	sep := ','
	if first, _, _ := bytes.Cut(data, []byte("\n")); bytes.Count(first, []byte(";")) > bytes.Count(first, []byte(",")) {
		sep = ';'
	}
	rd := csv.NewReader(bytes.NewReader(data))
	rd.Comma, rd.FieldsPerRecord, rd.TrimLeadingSpace = sep, -1, true
	var out []StatementLine
	for n := 1; ; n++ {
		rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, invalidField("statement", "line %d is not CSV: %v", n, err).With("line", n)
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if len(rec) < 4 {
			return nil, invalidField("statement", "line %d: expected date, amount, reference, CRO", n).With("line", n)
		}
		date, derr := parseDate(rec[0])
		amount, aerr := parseSignedEuro(rec[1])
		if n == 1 && derr != nil {
			continue // a header
		}
		switch {
		case derr != nil:
			return nil, invalidField("statement", "line %d: %q is not a date", n, rec[0]).With("line", n)
		case aerr != nil:
			return nil, invalidField("statement", "line %d: %q is not an amount in euro", n, rec[1]).With("line", n)
		}
		out = append(out, StatementLine{Line: n, Date: date, Amount: amount, Reference: strings.TrimSpace(rec[2]),
			CRO: NormaliseReference(rec[3])})
		if len(out) > maxStatementLines {
			return nil, invalidField("statement", "a statement has at most %d lines", maxStatementLines)
		}
	}
	if out == nil {
		out = []StatementLine{}
	}
	return out, nil
}

func parseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.DateOnly, "02/01/2006", "2/1/2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("not a date")
}

// parseSignedEuro reads "1.234,56", "1234.56", "-50" into cents; at most
// two decimals.
func parseSignedEuro(s string) (int64, error) {
	s = strings.ReplaceAll(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "€")), " ", "")
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
	if strings.Contains(s, ",") {
		s = strings.ReplaceAll(s, ".", "")
		s = strings.Replace(s, ",", ".", 1)
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(frac) > 2 {
		return 0, fmt.Errorf("not an amount")
	}
	for len(frac) < 2 {
		frac += "0"
	}
	var n int64
	for _, c := range whole + frac {
		if c < '0' || c > '9' || n > 1e15 {
			return 0, fmt.Errorf("not an amount")
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, nil
}

// reconcileBank matches the statement's lines with the recorded bank
// receipts (money in) and contract-end returns (money out) by CRO, then
// with the platform's other bank moves (MatchBankMoves).
func (s *Service) reconcileBank(ctx context.Context, r *Reconciliation, start, end time.Time) error {
	var recorded []struct {
		ID        string    `db:"id"`
		CRO       string    `db:"cro"`
		Amount    int64     `db:"amount"`
		ValueDate time.Time `db:"value_date"`
	}
	err := s.db.SelectContext(ctx, &recorded, `
		SELECT id::text, cro, amount, value_date FROM funding_bank_receipts
		WHERE value_date >= ($1 AT TIME ZONE 'Europe/Rome')::date AND value_date < ($2 AT TIME ZONE 'Europe/Rome')::date
		UNION ALL
		SELECT id::text, cro, -amount, value_date FROM funding_contract_ends
		WHERE value_date >= ($1 AT TIME ZONE 'Europe/Rome')::date AND value_date < ($2 AT TIME ZONE 'Europe/Rome')::date`, start, end)
	if err != nil {
		return err
	}
	// Only the period's lines are compared: a statement may cover more.
	var period []StatementLine
	for _, l := range r.Statement {
		if !l.Date.Before(r.From) && l.Date.Before(r.To) {
			period = append(period, l)
		}
	}
	lines := map[string]StatementLine{}
	for _, l := range period {
		lines[l.CRO] = l
	}
	matched := map[int]bool{} // by line number
	for _, rec := range recorded {
		l, ok := lines[rec.CRO]
		if !ok || matched[l.Line] {
			r.Differences = append(r.Differences, Difference{"bank", CauseBankMissing, rec.ValueDate, rec.CRO, rec.Amount, 0})
			continue
		}
		matched[l.Line] = true
		if l.Amount != rec.Amount {
			r.Differences = append(r.Differences, Difference{"bank", CauseBankAmount, rec.ValueDate, rec.CRO, rec.Amount, l.Amount})
		}
		if !l.Date.Equal(rec.ValueDate) {
			r.Differences = append(r.Differences, Difference{"bank", CauseBankDate, rec.ValueDate, rec.CRO, 0, 0})
		}
	}
	if s.bankMoves != nil {
		moves, err := s.bankMoves(ctx, start, end)
		if err != nil {
			return err
		}
		matchBankMoves(r, period, matched, moves)
	}
	for _, l := range period {
		if !matched[l.Line] {
			ref := l.CRO
			if ref == "" {
				ref = fmt.Sprintf("line %d", l.Line)
			}
			r.Differences = append(r.Differences, Difference{"bank", CauseBankUnrecorded, l.Date, ref, 0, l.Amount})
		}
	}
	return nil
}
