package redemption

import (
	"time"

	"github.com/google/uuid"
)

// Status is where a voucher stands. booked → validated | no_show |
// cancelled | expired; validated or no_show → partly_refunded → refunded.
type Status string

// The voucher statuses.
const (
	Booked         Status = "booked"
	Validated      Status = "validated"
	NoShow         Status = "no_show"
	Cancelled      Status = "cancelled"
	Expired        Status = "expired"
	Refunded       Status = "refunded"
	PartlyRefunded Status = "partly_refunded"
)

// Statuses lists the statuses in the order pages group vouchers.
func Statuses() []Status {
	return []Status{Booked, Validated, NoShow, PartlyRefunded, Refunded, Cancelled, Expired}
}

// Used reports whether the service was delivered (or charged as a
// no-show): the hold was captured and a refund is possible.
func (s Status) Used() bool { return s == Validated || s == NoShow || s == PartlyRefunded }

// Voucher is a booked service: nominative, one service at its full face
// value, with what was booked frozen at booking time.
type Voucher struct {
	ID             uuid.UUID  `json:"id" db:"id"`
	Code           string     `json:"code" db:"code"`
	EmployeeID     uuid.UUID  `json:"employee_id" db:"employee_id"`
	EmployeeName   string     `json:"employee_name" db:"employee_name"`
	CompanyID      uuid.UUID  `json:"company_id" db:"company_id"`
	ProviderID     uuid.UUID  `json:"provider_id" db:"provider_id"`
	ProviderName   string     `json:"provider_name" db:"provider_name"`
	OfferingID     uuid.UUID  `json:"offering_id" db:"offering_id"`
	OfferingTitle  string     `json:"offering_title" db:"offering_title"`
	Category       string     `json:"category" db:"category"`
	TaxBucket      string     `json:"tax_bucket" db:"tax_bucket"`
	Unit           string     `json:"unit" db:"unit"`
	Quantity       int        `json:"quantity" db:"quantity"`
	UnitPriceCents int64      `json:"unit_price_cents" db:"unit_price_cents"`
	AmountCents    int64      `json:"amount_cents" db:"amount_cents"`
	SlotID         *uuid.UUID `json:"slot_id,omitempty" db:"slot_id"`
	StartsAt       *time.Time `json:"starts_at,omitempty" db:"starts_at"`
	EndsAt         *time.Time `json:"ends_at,omitempty" db:"ends_at"`
	CancelUntil    time.Time  `json:"cancel_until" db:"cancel_until"`
	ValidateFrom   time.Time  `json:"validate_from" db:"validate_from"`
	ValidateUntil  time.Time  `json:"validate_until" db:"validate_until"`
	Status         Status     `json:"status" db:"status"`
	HoldID         int64      `json:"hold_id" db:"hold_id"`
	CaptureTxID    *int64     `json:"capture_tx_id,omitempty" db:"capture_tx_id"`
	PledgeTxID     *int64     `json:"pledge_tx_id,omitempty" db:"pledge_tx_id"`
	PolicyVersion  *int       `json:"policy_version,omitempty" db:"policy_version"`
	ProviderCents  *int64     `json:"provider_cents,omitempty" db:"provider_cents"`
	FundCents      *int64     `json:"fund_cents,omitempty" db:"fund_cents"`
	FeeCents       *int64     `json:"fee_cents,omitempty" db:"fee_cents"`
	PledgeCents    int64      `json:"pledge_cents" db:"pledge_cents"`
	FundAccount    *string    `json:"fund_account,omitempty" db:"fund_account"`
	RefundedCents  int64      `json:"refunded_cents" db:"refunded_cents"`
	ResolvedAt     *time.Time `json:"resolved_at,omitempty" db:"resolved_at"`
	ResolvedBy     *uuid.UUID `json:"resolved_by,omitempty" db:"resolved_by"`
	Note           string     `json:"note" db:"note"`
	CreatedAt      time.Time  `json:"created_at" db:"created_at"`
}

// DisplayCode is the code grouped for reading: "7KQ-4TZ-M2X".
func (v Voucher) DisplayCode() string { return FormatCode(v.Code) }

// CanCancelAt reports whether the employee may still cancel at t.
func (v Voucher) CanCancelAt(t time.Time) bool { return v.Status == Booked && t.Before(v.CancelUntil) }

// Refundable is what is left to refund.
func (v Voucher) Refundable() int64 {
	if !v.Status.Used() {
		return 0
	}
	return v.AmountCents - v.RefundedCents
}

// Refund is a refund after validation.
type Refund struct {
	ID            uuid.UUID `json:"id" db:"id"`
	VoucherID     uuid.UUID `json:"voucher_id" db:"voucher_id"`
	AmountCents   int64     `json:"amount_cents" db:"amount_cents"`
	ProviderCents int64     `json:"provider_cents" db:"provider_cents"`
	FundCents     int64     `json:"fund_cents" db:"fund_cents"`
	FeeCents      int64     `json:"fee_cents" db:"fee_cents"`
	PledgeCents   int64     `json:"pledge_cents" db:"pledge_cents"`
	Reason        string    `json:"reason" db:"reason"`
	ReversalTxID  int64     `json:"reversal_tx_id" db:"reversal_tx_id"`
	RefundedBy    uuid.UUID `json:"refunded_by" db:"refunded_by"`
	CreatedAt     time.Time `json:"created_at" db:"created_at"`
}
