package plans

import (
	"context"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/mail"
)

// ReminderDays are how many days before credits expire their owner is
// reminded. A credit given fewer than 30 days before its deadline gets
// only the 7-day reminder.
var ReminderDays = []int{30, 7}

// expiryMail is what a reminder says.
type expiryMail struct {
	Name, Amount, Until, Link string
	Days                      int
}

// due is an employee's credits whose last day is one day, and the
// reminder they are due.
type due struct {
	UserID    uuid.UUID `db:"user_id"`
	ExpiresOn time.Time `db:"expires_on"` // the last day, in Italy
	ExpiresAt time.Time `db:"expires_at"`
	Days      int       `db:"days"`
	Cents     int64     `db:"cents"`
	Email     string    `db:"email"`
	Name      string    `db:"name"`
}

// SendExpiryReminders mails up to limit employees whose credits expire
// within 30 (then 7) days, once per last day and threshold: the remainder
// of their wallet lots whose last day it is. It returns how many
// mails it queued. The reminder row and the mail commit together.
func (s *Service) SendExpiryReminders(ctx context.Context, limit int) (int, error) {
	n := 0
	err := db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		n = 0
		var rows []due
		if err := tx.SelectContext(ctx, &rows, `
			WITH lots AS (
				SELECT substring(a.path FROM '^employee:(.*):wallet$')::uuid AS user_id, l.expires_at,
				       CASE WHEN l.expires_at <= now() + interval '7 days' THEN 7 ELSE 30 END AS days, l.remaining
				FROM ledger_lots l JOIN ledger_accounts a ON a.id = l.account_id
				WHERE l.live AND a.path LIKE 'employee:%:wallet'
				  AND l.expires_at > now() AND l.expires_at <= now() + interval '30 days')
			SELECT d.user_id, d.expires_on, d.expires_at, d.days, d.cents, u.email::text AS email, u.name
			FROM (SELECT user_id, ((expires_at - interval '1 microsecond') AT TIME ZONE 'Europe/Rome')::date AS expires_on,
			             days, min(expires_at) AS expires_at, sum(remaining)::bigint AS cents FROM lots GROUP BY 1, 2, 3) d
			JOIN users u ON u.id = d.user_id AND u.status = 'active'
			WHERE NOT EXISTS (SELECT 1 FROM expiry_reminders r
			                  WHERE r.user_id = d.user_id AND r.expires_on = d.expires_on AND r.days = d.days)
			ORDER BY d.expires_at LIMIT $1`, limit); err != nil {
			return db.MapError(err, "credits about to expire")
		}
		var msgs []mail.Message
		for _, r := range rows {
			res, err := tx.ExecContext(ctx, `INSERT INTO expiry_reminders (user_id, expires_on, days, cents) VALUES ($1, $2, $3, $4)
				ON CONFLICT DO NOTHING`, r.UserID, r.ExpiresOn, r.Days, r.Cents)
			if err != nil {
				return err
			}
			if k, _ := res.RowsAffected(); k == 0 {
				continue // another worker reminded them meanwhile
			}
			m, err := mails.Compose(r.Email, "expiry", expiryMail{Name: r.Name, Amount: euro(r.Cents), Until: r.ExpiresOn.Format("02/01/2006"),
				Days: int(time.Until(r.ExpiresAt).Hours()/24) + 1, Link: s.baseURL + WalletPath})
			if err != nil {
				slog.ErrorContext(ctx, "composing the expiry reminder", "error", err)
				continue
			}
			msgs = append(msgs, m)
		}
		n = len(msgs)
		return mail.EnqueueAll(ctx, tx, msgs)
	})
	return n, err
}
