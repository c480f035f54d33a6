// Package plans is the welfare side of a company: its employees as HR
// describes them (homogeneous category, employee number, tax code, hire
// and leaving dates, part-time), its welfare plans (amount rules per
// category, allowed service categories, spending deadline, residual
// policy), and the allocations that turn a plan into credits.
//
// Money never lives here. A credit is a ledger transaction
// company:{id}:budget → employee:{id}:wallet that creates a lot carrying
// the plan, its allowed categories and its expiry; these tables say why
// the money moved and to whom.
//
// A plan allocation is all or nothing and resumable: it first holds the
// whole amount on the budget (a refusal says how much is missing), then
// credits its employees in chunks. Each chunk, in one database
// transaction, voids the hold, posts its credits with ledger.PostBatch
// and holds what is still to credit; so money is never both held and
// credited, a crash loses at most the chunk in flight (rolled back), and
// every credit has a ledger key of its own (allocation, employee), so
// nothing is credited twice.
package plans
