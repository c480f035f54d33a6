package sepa_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/sepa"
)

func TestIBAN(t *testing.T) {
	for iban, ok := range map[string]bool{
		"IT60X0542811101000000123456": true, "DE89370400440532013000": true, "GB82WEST12345698765432": true,
		"IT60X0542811101000000123457": false, // one digit changed
		"IT60X054281110100000012345":  false, // too short for Italy
		"XX60X0542811101000000123456": false, // no such country
		"":                            false,
	} {
		if got := sepa.ValidIBAN(iban); got != ok {
			t.Errorf("ValidIBAN(%q) = %v", iban, got)
		}
	}
	if got := sepa.NormaliseIBAN(" it60 x054 2811 1010 0000 0123 456 "); got != "IT60X0542811101000000123456" {
		t.Errorf("normalised %q", got)
	}
	if sepa.ABI("IT60X0542811101000000123456") != "05428" || sepa.ABI("DE89370400440532013000") != "" {
		t.Error("ABI")
	}
}

func batch() sepa.Batch {
	return sepa.Batch{MessageID: "RCP-20261201-ABCD", CreatedAt: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC),
		ExecutionDate: time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC), CUC: "LC0FI01X", DebtorName: "Fondo Inclusione Brianza ETS",
		DebtorIBAN: "IT60X0542811101000000123456",
		Payments: []sepa.Payment{
			{EndToEndID: "F-1", Amount: 45000, Creditor: "Immobiliare Lariana S.r.l.", IBAN: "IT60X0542811101000000123456",
				Remittance: "Fattura 2026/118", Address: &sepa.Address{Street: "Via Cavour", Building: "12", PostCode: "23900", Town: "Lecco", Country: "IT"}},
			{EndToEndID: "F-2", Amount: 12050, Creditor: "Società Elettrica Lariana & C.", IBAN: "DE89370400440532013000", Remittance: "Bolletta n° 4455"},
		}}
}

// xmllint finds the tool (Debian's libxml2-utils, which scripts/test-env.sh installs).
func xmllint(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("xmllint")
	if err != nil {
		t.Fatal("xmllint not found: install Debian's libxml2-utils (scripts/test-env.sh does as root)")
	}
	return p
}

func validate(t *testing.T, schema string, doc []byte) error {
	t.Helper()
	f := filepath.Join(t.TempDir(), "batch.xml")
	if err := os.WriteFile(f, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(xmllint(t), "--noout", "--schema", schema, f).CombinedOutput()
	if err != nil {
		return &schemaError{string(out)}
	}
	return nil
}

type schemaError struct{ out string }

func (e *schemaError) Error() string { return e.out }

// The file validates against the schema, twice gives the same bytes, and
// carries only the reference as remittance, in the SEPA character set.
func TestCBIFile(t *testing.T) {
	b := batch()
	x, err := b.XML()
	if err != nil {
		t.Fatal(err)
	}
	again, _ := batch().XML()
	if !bytes.Equal(x, again) {
		t.Fatal("the same batch gave different bytes")
	}
	if err := validate(t, "testdata/cbi-profile.xsd", x); err != nil {
		t.Fatalf("the file does not validate: %v\n%s", err, x)
	}
	if cbi := os.Getenv("CBI_XSD"); cbi != "" {
		if err := validate(t, cbi, x); err != nil {
			t.Fatalf("the file does not validate against CBI's schema %s: %v", cbi, err)
		}
	}
	s := string(x)
	for _, want := range []string{"<MsgId>RCP-20261201-ABCD</MsgId>", "<Id>LC0FI01X</Id>", "<Issr>CBI</Issr>", "<MmbId>05428</MmbId>",
		"<CtrlSum>570.50</CtrlSum>", `<InstdAmt Ccy="EUR">450.00</InstdAmt>`, "<Ustrd>Fattura 2026/118</Ustrd>",
		"<Nm>Societa Elettrica Lariana + C.</Nm>", "<Ustrd>Bolletta n. 4455</Ustrd>", "<TwnNm>Lecco</TwnNm>"} {
		if !strings.Contains(s, want) {
			t.Errorf("file lacks %s", want)
		}
	}
	if strings.Contains(s, "AdrLine") {
		t.Error("an unstructured address line was written")
	}
	// The schema bites: a remittance past 140 characters, or an address
	// line, is refused.
	long := strings.Replace(s, "Fattura 2026/118", strings.Repeat("x", 141), 1)
	if validate(t, "testdata/cbi-profile.xsd", []byte(long)) == nil {
		t.Error("the schema accepted a 141-character remittance")
	}
	adr := strings.Replace(s, "<TwnNm>Lecco</TwnNm>", "<AdrLine>Via Cavour 12, Lecco</AdrLine>", 1)
	if validate(t, "testdata/cbi-profile.xsd", []byte(adr)) == nil {
		t.Error("the schema accepted an unstructured address")
	}
}

func TestCBIFileRefusesBadBatches(t *testing.T) {
	for name, change := range map[string]func(*sepa.Batch){
		"bad creditor IBAN": func(b *sepa.Batch) { b.Payments[0].IBAN = "IT60X0542811101000000123457" },
		"no CUC":            func(b *sepa.Batch) { b.CUC = "" },
		"foreign debtor":    func(b *sepa.Batch) { b.DebtorIBAN = "DE89370400440532013000" },
		"no reference":      func(b *sepa.Batch) { b.Payments[1].Remittance = " " },
		"address sans town": func(b *sepa.Batch) { b.Payments[0].Address.Town = "" },
		"long message id":   func(b *sepa.Batch) { b.MessageID = strings.Repeat("A", 36) },
		"zero amount":       func(b *sepa.Batch) { b.Payments[0].Amount = 0 },
		"no payments":       func(b *sepa.Batch) { b.Payments = nil },
	} {
		b := batch()
		change(&b)
		if _, err := b.XML(); err == nil {
			t.Errorf("%s: written", name)
		}
	}
}
