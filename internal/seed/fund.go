package seed

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/fund"
	"github.com/reciproca/reciproca/internal/ledger"
)

// fundSet is the demo inclusion fund in Lecco (the identity set's fund
// organisation): its bank details, five envelopes, pool inflows —
// redemption shares, a donated residual and a direct donation —
// attributed to both demo companies, part of them earmarked, and a dozen
// cases in every state (fund.SeedDemo; identities sealed with the
// development vault key).
var fundSet = set{
	name: "fund-lecco-v1",
	load: loadFund,
}

// demoInflows are the pool's contributor lots: company, source, cents.
var demoInflows = []struct {
	company string
	source  string
	amount  int64
}{
	{"b", fund.SourceRedemption, 60_000}, {"a", fund.SourceRedemption, 50_000},
	{"a", fund.SourceRedemption, 1_250_000}, {"b", fund.SourceRedemption, 640_000},
	{"a", fund.SourceRedemption, 830_000}, {"b", fund.SourceResidual, 420_000},
	{"a", fund.SourceDonation, 500_000}, {"b", fund.SourcePledge, 90_000},
}

// demoEnvelopes: theme, yearly cap, earmarked (cents).
var demoEnvelopes = []struct {
	theme     fund.Theme
	cap, fill int64
}{
	{fund.ThemeEmergencies, 1_500_000, 900_000}, {fund.ThemeJobPlacement, 1_200_000, 700_000},
	{fund.ThemeTraining, 800_000, 500_000}, {fund.ThemeBusinessStartup, 600_000, 400_000},
	{fund.ThemeCarePathways, 400_000, 200_000},
}

func loadFund(ctx context.Context, tx *sqlx.Tx) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO funds (organisation_id, territory, approval_threshold, cuc, debtor_name, debtor_iban)
		VALUES ($1, 'Lecco', 50000, 'LC0FI01X', 'Fondo Inclusione Brianza ETS', 'IT60X0542811101000000123456')
		ON CONFLICT (organisation_id) DO NOTHING`, OrgFund); err != nil {
		return err
	}
	if _, err := ledger.CreateAccount(ctx, tx, ledger.AccountSpec{Path: "platform:bank", Kind: ledger.Asset}); err != nil {
		return err
	}
	pool := fund.PoolSpec(OrgFund)
	if _, err := ledger.CreateAccount(ctx, tx, pool); err != nil {
		return err
	}
	companies := map[string]string{"a": OrgCompanyA.String(), "b": OrgCompanyB.String()}
	for i, in := range demoInflows {
		_, err := ledger.Post(ctx, tx, ledger.Request{Key: fmt.Sprintf("seed.fund.inflow:%d", i), Kind: "fund.inflow",
			Postings: []ledger.Posting{{From: "platform:bank", To: pool.Path, Amount: in.amount,
				Lot: &ledger.LotSpec{Attrs: map[string]any{"company": companies[in.company], "source": in.source}}}}})
		if err != nil {
			return fmt.Errorf("inflow %d: %w", i, err)
		}
	}
	for _, e := range demoEnvelopes {
		if err := fund.SeedEnvelope(ctx, tx, OrgFund, e.theme, e.cap, e.fill, "seed.fund.earmark:"+string(e.theme)); err != nil {
			return fmt.Errorf("envelope %s: %w", e.theme, err)
		}
	}
	var staff fund.DemoStaff
	for email, id := range map[string]*uuid.UUID{"operatore@fondobrianza.example": &staff.Worker,
		"approvatore@fondobrianza.example": &staff.Approver, "gestore@fondobrianza.example": &staff.Manager} {
		if err := tx.GetContext(ctx, id, `SELECT id FROM users WHERE email = $1`, email); err != nil {
			return fmt.Errorf("demo fund staff %s: %w", email, err)
		}
	}
	return fund.SeedDemo(ctx, tx, OrgFund, staff)
}
