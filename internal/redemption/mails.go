package redemption

import (
	"context"
	"embed"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/mail"
)

// The mails are plain-text templates, mails/<lang>/<name>.txt
// (mail.Templates), in Italian and then English.
//
//go:embed mails
var mailFS embed.FS

// mailLanguages are the languages of every mail, in the order they appear.
var mailLanguages = []string{"it", "en"}

var mailTemplates = mail.MustTemplates(mailFS, "mails", mailLanguages...)

// voucherMail is what the voucher mails show.
type voucherMail struct {
	Employee, Provider, Title, Code, Amount, When, CancelUntil, Reason, Link string
	Quantity                                                                 int
}

func (s *Service) voucherMail(v Voucher, link string) voucherMail {
	m := voucherMail{Employee: v.EmployeeName, Provider: v.ProviderName, Title: v.OfferingTitle, Code: v.DisplayCode(),
		Amount: euro(v.AmountCents), Quantity: v.Quantity, Reason: v.Note, Link: s.cfg.BaseURL + link}
	if v.StartsAt != nil {
		m.When = v.StartsAt.In(rome).Format("02/01/2006 15:04")
	}
	if v.Status == Booked && v.StartsAt != nil && v.CancelUntil.After(s.cfg.Now()) {
		m.CancelUntil = v.CancelUntil.In(rome).Format("02/01/2006 15:04")
	}
	return m
}

// send renders mail name for to in every language and queues it in the
// caller's transaction (sent if and only if the change commits).
func send(ctx context.Context, tx *sqlx.Tx, to, name string, data voucherMail) error {
	if to == "" {
		return nil
	}
	m, err := mailTemplates.Compose(to, name, data)
	if err != nil {
		return err
	}
	return mail.Enqueue(ctx, tx, m)
}

// VoucherPath is the employee's page of a voucher.
func VoucherPath(v Voucher) string { return "/buoni/" + v.ID.String() }

// ProviderDayPath is the provider's page of a day's bookings.
const ProviderDayPath = "/erogatore/prenotazioni"

// bookedMails are a booking's mails, the voucher to the employee and a
// notice to the provider (none to an empty address), as the arrays of
// mail_outbox's columns that the booking's statement unnests.
func (s *Service) bookedMails(employee, provider string, v Voucher) (to, subjects, bodies any, err error) {
	var ms []mail.Message
	for _, m := range []struct{ to, name, link string }{{employee, "booked", VoucherPath(v)},
		{provider, "provider_booked", ProviderDayPath + "?giorno=" + v.ValidateFrom.In(rome).Format("2006-01-02")}} {
		if m.to == "" {
			continue
		}
		msg, err := mailTemplates.Compose(m.to, m.name, s.voucherMail(v, m.link))
		if err != nil {
			return nil, nil, nil, err
		}
		ms = append(ms, msg)
	}
	return mail.Arrays(ms)
}

// mailCancelled tells the employee the provider cancelled their booking.
func (s *Service) mailCancelled(ctx context.Context, tx *sqlx.Tx, v Voucher) error {
	to, _, err := addresses(ctx, tx, v)
	if err != nil {
		return err
	}
	return send(ctx, tx, to, "cancelled", s.voucherMail(v, "/buoni"))
}

// mailProviderCancelled tells the provider the employee cancelled.
func (s *Service) mailProviderCancelled(ctx context.Context, tx *sqlx.Tx, v Voucher) error {
	_, to, err := addresses(ctx, tx, v)
	if err != nil {
		return err
	}
	return send(ctx, tx, to, "provider_cancelled", s.voucherMail(v, ProviderDayPath+"?giorno="+v.ValidateFrom.In(rome).Format("2006-01-02")))
}

// addresses returns the employee's and the provider's mail addresses.
func addresses(ctx context.Context, tx *sqlx.Tx, v Voucher) (employee, provider string, err error) {
	var r struct {
		Employee string `db:"employee"`
		Provider string `db:"provider"`
	}
	err = tx.GetContext(ctx, &r, `SELECT u.email AS employee, p.email AS provider FROM users u, providers p
		WHERE u.id = $1 AND p.organisation_id = $2`, v.EmployeeID, v.ProviderID)
	return r.Employee, r.Provider, err
}

// euro formats cents the Italian way for messages: "€ 1.234,50".
func euro(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	whole := fmt.Sprint(cents / 100)
	for i := len(whole) - 3; i > 0; i -= 3 {
		whole = whole[:i] + "." + whole[i:]
	}
	return fmt.Sprintf("%s€ %s,%02d", sign, whole, cents%100)
}
