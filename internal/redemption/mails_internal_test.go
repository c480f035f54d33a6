package redemption

import (
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// Every mail exists in every language and shows the voucher's code and
// link in each.
func TestMailsInEveryLanguage(t *testing.T) {
	names, err := fs.Glob(mailFS, "mails/"+mailLanguages[0]+"/*.txt")
	if err != nil || len(names) == 0 {
		t.Fatalf("no mail templates: %v", err)
	}
	s := New(nil, Config{BaseURL: "https://x.test"})
	at := time.Now().Add(48 * time.Hour)
	v := Voucher{ID: uuid.New(), Code: newCode(), EmployeeName: "Anna", ProviderName: "Coop Sole", OfferingTitle: "Nuoto",
		Quantity: 2, AmountCents: 50_00, StartsAt: &at, Status: Booked, CancelUntil: at.Add(-24 * time.Hour), Note: "chiuso"}
	for _, p := range names {
		name := strings.TrimSuffix(p[strings.LastIndex(p, "/")+1:], ".txt")
		m, err := mailTemplates.Compose("anna@example.test", name, s.voucherMail(v, VoucherPath(v)))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := strings.Count(m.Body, "https://x.test"+VoucherPath(v)); got != len(mailLanguages) {
			t.Errorf("%s: the link appears %d times, want once per language", name, got)
		}
		if strings.Count(m.Subject, " / ") != len(mailLanguages)-1 || !strings.Contains(m.Subject, "Nuoto") {
			t.Errorf("%s: subject %q", name, m.Subject)
		}
		if err := m.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
