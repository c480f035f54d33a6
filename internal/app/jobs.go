package app

import (
	"context"
	"fmt"
	"time"

	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/ledger"
	"github.com/reciproca/reciproca/internal/mail"
	"github.com/reciproca/reciproca/internal/worker"
)

// stripeEventsJob handles the Stripe webhook inbox; a stored event wakes it.
const stripeEventsJob = "stripe.events"

// newWorker registers the background work. A new domain with background
// work (payouts, reminders, allocation) adds its job here; the Job says
// what one run does and how to count what is waiting.
func (a *App) newWorker() (*worker.Worker, error) {
	smtp, err := mail.NewSMTP(a.Config.SMTPURL, a.Config.MailFrom)
	if err != nil {
		return nil, err
	}
	keys, err := ledger.NewKeys(a.Config.Ledger.SigningKey)
	if err != nil {
		return nil, fmt.Errorf("LEDGER_SIGNING_KEY: %w", err)
	}
	dbx := a.DB
	w := worker.New(dbx)
	w.Register(worker.Job{Name: "mail.deliver", Every: 2 * time.Second, Timeout: 5 * time.Minute,
		Run:     func(ctx context.Context) (int, error) { return mail.DeliverPending(ctx, dbx, smtp.Send, 50) },
		Backlog: func(ctx context.Context) (int, error) { return mail.Pending(ctx, dbx) }})
	w.Register(worker.Job{Name: stripeEventsJob, Every: 2 * time.Second,
		Run:     func(ctx context.Context) (int, error) { return a.Stripe.HandlePending(ctx, 100) },
		Backlog: a.Stripe.Pending})
	w.Register(worker.Job{Name: "funding.stripe_fees", Every: 30 * time.Second,
		Run:     func(ctx context.Context) (int, error) { return a.Funding.BookStripeFees(ctx, 50) },
		Backlog: a.Funding.FeesDue})
	w.Register(worker.Job{Name: "ledger.seal", Every: 5 * time.Second,
		Run:     func(ctx context.Context) (int, error) { return ledger.SealAll(ctx, dbx) },
		Backlog: func(ctx context.Context) (int, error) { return ledger.Unsealed(ctx, dbx) }})
	// Once a day the audit log's signed checkpoint leaves the database:
	// a log line and LEDGER_ROOTS_FILE (ledger.PublishCheckpoint).
	w.Register(worker.Job{Name: "ledger.checkpoint", Every: time.Hour,
		Run: func(ctx context.Context) (int, error) {
			published, err := ledger.PublishCheckpoint(ctx, dbx, keys, a.Config.Ledger.RootsFile, 24*time.Hour)
			if published {
				return 1, err
			}
			return 0, err
		}})
	w.Register(worker.Job{Name: "ledger.expire_holds", Every: 30 * time.Second,
		Run:     func(ctx context.Context) (int, error) { return ledger.ExpireHolds(ctx, dbx, 500) },
		Backlog: func(ctx context.Context) (int, error) { return ledger.ExpiredHolds(ctx, dbx) }})
	w.Register(worker.Job{Name: "ledger.sweep_lots", Every: time.Minute,
		Run:     func(ctx context.Context) (int, error) { return a.Plans.SweepExpiredLots(ctx, 200) },
		Backlog: func(ctx context.Context) (int, error) { return ledger.ExpiredLots(ctx, dbx) }})
	// Vouchers nobody validated within their grace period expire before
	// the ledger's hold sweeper would, so the voucher says so too.
	w.Register(worker.Job{Name: "redemption.expire_vouchers", Every: time.Minute,
		Run:     func(ctx context.Context) (int, error) { return a.Redemption.ExpireVouchers(ctx, 500) },
		Backlog: a.Redemption.ExpiredBacklog})
	w.Register(worker.Job{Name: "plans.allocate", Every: 5 * time.Second, Timeout: 10 * time.Minute,
		Run:     func(ctx context.Context) (int, error) { return a.Plans.RunAllocations(ctx, 20) },
		Backlog: a.Plans.RunningAllocations})
	w.Register(worker.Job{Name: "plans.expiry_reminders", Every: 10 * time.Minute,
		Run: func(ctx context.Context) (int, error) { return a.Plans.SendExpiryReminders(ctx, 500) }})
	w.Register(worker.Job{Name: "plans.freeze_leavers", Every: 10 * time.Minute,
		Run: func(ctx context.Context) (int, error) { return a.Plans.FreezeLeavers(ctx, 500) }})
	// Payouts: the weekly schedule creates them (a ledger hold each), the
	// payouts job makes their Stripe transfers.
	w.Register(worker.Job{Name: "redemption.schedule_payouts", Every: time.Hour,
		Run: a.Redemption.SchedulePayouts})
	w.Register(worker.Job{Name: "redemption.payouts", Every: 30 * time.Second, Timeout: 10 * time.Minute,
		Run:     func(ctx context.Context) (int, error) { return a.Redemption.PayPending(ctx, 50) },
		Backlog: a.Redemption.DuePayouts})
	// Transfer reversals: failed bank payouts of connected accounts, and
	// refunds of paid-out vouchers no payout netted within 60 days.
	w.Register(worker.Job{Name: "redemption.reclaim", Every: 10 * time.Minute, Timeout: 10 * time.Minute,
		Run: a.Redemption.ReclaimDue})
	w.Register(worker.Job{Name: "redemption.connect_fees", Every: 10 * time.Minute, Timeout: 5 * time.Minute,
		Run: a.Redemption.BookConnectFees})
	w.Register(worker.Job{Name: "idempotency.sweep", Every: 10 * time.Minute,
		Run:     func(ctx context.Context) (int, error) { return db.SweepIdempotencyKeys(ctx, dbx, time.Now(), 5000) },
		Backlog: func(ctx context.Context) (int, error) { return db.ExpiredIdempotencyKeys(ctx, dbx, time.Now()) }})
	// Beneficiaries' identity keys are erased once their cases have been
	// closed longer than FUND_RETENTION (crypto-shredding; docs/privacy.md).
	w.Register(worker.Job{Name: "fund.retention", Every: time.Hour,
		Run:     func(ctx context.Context) (int, error) { return a.Fund.EraseExpired(ctx, 200) },
		Backlog: a.Fund.ExpiredIdentities})
	// Case workers are mailed a week before an outcome's 6- and 12-month
	// follow-up is due.
	w.Register(worker.Job{Name: "fund.followup_reminders", Every: time.Hour,
		Run:     func(ctx context.Context) (int, error) { return a.Fund.SendFollowUpReminders(ctx, 500) },
		Backlog: a.Fund.FollowUpsToRemind})
	return w, nil
}
