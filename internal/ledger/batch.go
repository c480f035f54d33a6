package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"runtime"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/db"
)

// Outcome is what became of one request of a batch: its Result, or Err
// (the errors Post returns) when it was refused.
type Outcome struct {
	Result
	Err error
}

// PostBatch writes posted transactions in order, in one statement: each
// request is checked and applied as Post would (floors, lots, splits,
// idempotency) against the balances the requests before it left, and a
// refused request does not stop the others. Inside a transaction the
// batch commits with it, which makes bulk work (allocating credits to a
// whole company) a few statements instead of one per employee.
//
// The error is for a batch that could not be written at all (the
// database); outcomes then are nil. Autocommitted batches are retried on
// serialization failure and deadlock; inside a transaction the caller's
// db.WithTx does.
func PostBatch(ctx context.Context, ext sqlx.ExtContext, reqs []Request) ([]Outcome, error) {
	out := make([]Outcome, len(reqs))
	valid := make([]Request, 0, len(reqs))
	at := make([]int, 0, len(reqs)) // out index of each valid request
	for i, r := range reqs {
		if err := r.Validate(); err != nil {
			out[i].Err = err
			continue
		}
		valid = append(valid, r)
		at = append(at, i)
	}
	written, err := writeBatch(ctx, ext, valid, 0)
	if err != nil {
		return nil, err
	}
	for n, o := range written {
		out[at[n]] = o
	}
	return out, nil
}

// writeBatch sends validated requests to ledger_post_batch and reads its
// answer, one outcome per request.
func writeBatch(ctx context.Context, ext sqlx.ExtContext, reqs []Request, lockTimeout time.Duration) ([]Outcome, error) {
	if len(reqs) == 0 {
		return nil, nil
	}
	send := make([]wire, len(reqs))
	for i, r := range reqs {
		send[i] = wire{Request: r.canonical()}
	}
	return writeDocs(ctx, ext, "ledger_post_batch", send, len(reqs), lockTimeout)
}

// writeDocs sends a batch's documents to fn (ledger_post_batch or
// ledger_write_batch) and reads its answer, one outcome per request.
func writeDocs(ctx context.Context, ext sqlx.ExtContext, fn string, docs any, n int, lockTimeout time.Duration) ([]Outcome, error) {
	var raw []byte
	if err := callJSONTimeout(ctx, ext, fn, lockTimeout, docs, &raw); err != nil {
		return nil, err
	}
	var results []struct {
		TxID     int64           `json:"tx_id"`
		Replayed bool            `json:"replayed"`
		Code     string          `json:"code"`
		Message  string          `json:"message"`
		Detail   json.RawMessage `json:"detail"`
	}
	if err := json.Unmarshal(raw, &results); err != nil || len(results) != n {
		return nil, apperr.Wrap(errors.Join(err, errors.New(fn+" returned a malformed result")), "reading ledger batch")
	}
	out := make([]Outcome, n)
	for i, r := range results {
		if r.Code != "" {
			out[i].Err = sqlError(r.Code, r.Message, r.Detail)
			continue
		}
		out[i].Result = Result{TxID: r.TxID, Replayed: r.Replayed}
	}
	return out, nil
}

// BatcherOptions tune a Batcher; zero values take the defaults.
type BatcherOptions struct {
	// MaxBatch caps the requests written in one batch (default 128).
	MaxBatch int
	// Writers is how many batches of posts, holds, captures and voids are
	// written at once (default: the number of CPUs, at least 2). Each
	// writer has its own queue, and a request goes to the writer of the
	// account it pays (a split's provider, a posting's payee), so that
	// writers rarely wait for each other's row locks.
	Writers int
	// Lanes is how many batches of reversals are written at once, one per
	// lane (default 16). Such a batch runs its requests one after the
	// other in one backend, each by its own function and costing about
	// what it costs alone, so lanes rather than batch size give them the
	// machine (docs/benchmarks.md).
	Lanes int
	// LockTimeout is how long a batch waits for a row lock another
	// transaction holds (default 250 ms). A batch that waits longer gives
	// its requests back to be written one by one, away from the writers:
	// a domain transaction that holds an account's row for long delays
	// only the requests that touch that account.
	LockTimeout time.Duration
}

// A Batcher writes ledger transactions for many concurrent callers in
// shared batches (TigerBeetle's idea): while one batch is being written,
// the requests that arrive queue up and go together in the next one. A
// caller waits no longer than one batch; under load the round trip, the
// statements and the commit are shared by up to MaxBatch requests.
//
// Posted transactions, holds, captures and voids (Post, Hold, Capture,
// Void) go together as one ledger_post_batch: one read per table for the
// whole batch, the requests applied one after the other in memory by the
// rules the plain calls keep, one write per table, with row locks held
// only for the last statements and the commit (sql/batch.sql). A capture
// or void resolves its hold with a guarded update, so of concurrent
// captures and voids of one hold exactly one wins, whichever path each
// took. Reversals go as one ledger_write_batch, each written by the same
// function as Reverse writes it alone; such a batch holds its rows until
// it commits, so they queue in lanes by the transaction they reverse. A
// request alone in its batch (no queue) is written by its own function,
// as Post, Hold, ... would write it: a batch of one costs no more than
// the plain call.
//
// It is for writes that stand alone (a redemption whose voucher records
// the ledger transaction by its idempotency key); a write that must commit
// with other rows uses Post, Hold, ... or PostBatch inside that
// transaction.
type Batcher struct {
	db          *sqlx.DB
	max         int
	lockTimeout time.Duration
	queues      []chan pending // posts, holds, captures, voids: one per writer
	lanes       []chan pending // reversals
	wg          sync.WaitGroup // the writers
	alone       sync.WaitGroup // requests written one by one after a lock timeout
	once        sync.Once
}

// An op is one request of a Batcher as the SQL functions read it
// (ledger_write_op): what it is and the document its function takes.
type op struct {
	Op  string `json:"op"` // post, hold, capture, void, reverse
	Req any    `json:"req"`
}

type pending struct {
	ctx  context.Context
	op   op
	done chan Outcome
}

// maxOps caps the reversals written in one ledger_write_batch
// statement: a batch that meets a refusal is sent again without the
// refused request, and its locks are held until it commits.
const maxOps = 48

// NewBatcher starts a Batcher writing to dbx. Close stops it.
func NewBatcher(dbx *sqlx.DB, o BatcherOptions) *Batcher {
	if o.MaxBatch <= 0 {
		o.MaxBatch = 128
	}
	if o.Writers <= 0 {
		o.Writers = max(2, runtime.NumCPU())
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = 250 * time.Millisecond
	}
	if o.Lanes <= 0 {
		o.Lanes = 16
	}
	b := &Batcher{db: dbx, max: o.MaxBatch, lockTimeout: o.LockTimeout}
	for range o.Writers {
		q := make(chan pending, o.MaxBatch)
		b.queues = append(b.queues, q)
		b.wg.Add(1)
		go b.write(q)
	}
	for range o.Lanes {
		lane := make(chan pending, o.MaxBatch)
		b.lanes = append(b.lanes, lane)
		b.wg.Add(1)
		go b.write(lane)
	}
	return b
}

// Post checks r and writes it in the next batch, and returns as Post does.
// When ctx ends first, Post returns its error; the request may still be
// written, and a retry with the same key replays it. So do Hold, Capture,
// Void and Reverse.
func (b *Batcher) Post(ctx context.Context, r Request) (Result, error) {
	if err := r.Validate(); err != nil {
		return Result{}, err
	}
	return b.submit(ctx, b.writer(r.payee()), op{Op: "post", Req: wire{Request: r.canonical()}})
}

// Hold places a hold in the next batch, and returns as Hold does.
func (b *Batcher) Hold(ctx context.Context, r HoldRequest) (Result, error) {
	if err := r.Validate(); err != nil {
		return Result{}, err
	}
	return b.submit(ctx, b.writer(r.payee()), op{Op: "hold", Req: r.wire()})
}

// Capture captures a hold in the next batch, and returns as Capture does.
func (b *Batcher) Capture(ctx context.Context, r CaptureRequest) (Result, error) {
	if err := r.Validate(); err != nil {
		return Result{}, err
	}
	return b.submit(ctx, b.writer(r.payee()), op{Op: "capture", Req: r.canonical()})
}

// Void releases a hold in the next batch, and returns as Void does.
func (b *Batcher) Void(ctx context.Context, holdID int64) error {
	_, err := b.submit(ctx, b.writer(fmt.Sprint("hold:", holdID)), op{Op: "void", Req: map[string]int64{"hold_id": holdID}})
	return err
}

// Reverse writes a reversal in the next batch, and returns as Reverse does.
func (b *Batcher) Reverse(ctx context.Context, r ReverseRequest) (Result, error) {
	if err := r.Validate(); err != nil {
		return Result{}, err
	}
	return b.submit(ctx, b.lane(fmt.Sprint("tx:", r.TransactionID)), op{Op: "reverse", Req: r})
}

// lane is the queue of the reversals routed by key.
func (b *Batcher) lane(key string) chan pending {
	return b.lanes[route(key, len(b.lanes))]
}

// writer is the queue of the writer that writes the posts, holds,
// captures and voids paying account key. The write stage locks the
// balance rows of the plain accounts a batch names until it commits, so
// two writers whose batches pay one provider write one after the other;
// with each provider's requests in one writer's batches, writers rarely
// wait for each other (docs/benchmarks.md). A hold and its capture pay
// the same provider: they go through the same writer.
func (b *Batcher) writer(key string) chan pending {
	return b.queues[route(key, len(b.queues))]
}

func route(key string, n int) int {
	h := fnv.New32a()
	h.Write([]byte(key))
	return int(h.Sum32() % uint32(n))
}

// payee is the account a request pays, by which the Batcher routes it:
// its split's provider, or its first posting's account.
func (r Request) payee() string {
	return payee(r.Split, r.Postings, r.Key)
}

// payee is the account a capture pays, as Request.payee; without
// postings or split (a capture of what was held) its hold.
func (r CaptureRequest) payee() string {
	return payee(r.Split, r.Postings, fmt.Sprint("hold:", r.HoldID))
}

func payee(s *Split, ps []Posting, otherwise string) string {
	switch {
	case s != nil:
		return s.Provider
	case len(ps) > 0:
		return ps[0].To
	}
	return otherwise
}

func (b *Batcher) submit(ctx context.Context, q chan pending, o op) (Result, error) {
	p := pending{ctx: ctx, op: o, done: make(chan Outcome, 1)}
	select {
	case q <- p:
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
	select {
	case o := <-p.done:
		return o.Result, o.Err
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
}

// Close writes what is queued and stops the writers. No request may be
// sent after Close.
func (b *Batcher) Close() {
	b.once.Do(func() {
		for _, q := range b.queues {
			close(q)
		}
		for _, l := range b.lanes {
			close(l)
		}
	})
	b.wg.Wait()
	b.alone.Wait()
}

// write takes whatever is queued on q (up to max) as one batch, as soon as
// the previous batch of this writer is done: no timer, so a lone request is
// written at once. Between batches it yields the processor once, so that
// the callers it just answered, if they write again at once, join the
// next batch: a batch costs about 1.3 ms whatever its size plus 0.17 ms a
// request (docs/benchmarks.md), so fewer, fuller batches cost less.
func (b *Batcher) write(q chan pending) {
	defer b.wg.Done()
	batch := make([]pending, 0, b.max)
	for first := range q {
		batch = append(batch[:0], first)
	fill:
		for len(batch) < b.max {
			select {
			case p, ok := <-q:
				if !ok {
					break fill
				}
				batch = append(batch, p)
			default:
				break fill
			}
		}
		b.flush(batch)
		// Let the callers just answered run before the next batch is taken:
		// those that write again at once then go in it with the requests
		// that queued meanwhile, rather than in a batch of their own.
		runtime.Gosched()
	}
}

// flush writes a batch: its posts, holds, captures and voids as one
// ledger_post_batch, in the order they came, reversals as
// ledger_write_batch statements of at most maxOps, a request alone by its
// own function.
func (b *Batcher) flush(batch []pending) {
	var sets, others []pending
	for _, p := range batch {
		switch {
		case p.ctx.Err() != nil: // the caller has gone: not written
			p.done <- Outcome{Err: p.ctx.Err()}
		case setBased[p.op.Op]:
			sets = append(sets, p)
		default:
			others = append(others, p)
		}
	}
	if len(sets) == 1 {
		others, sets = append(others, sets[0]), nil
	}
	if len(sets) > 0 {
		b.flushGroup(sets)
	}
	for len(others) > 0 {
		n := min(len(others), maxOps)
		b.flushGroup(others[:n])
		others = others[n:]
	}
}

// flushGroup writes one statement's requests and answers their callers.
func (b *Batcher) flushGroup(group []pending) {
	// The batch belongs to all its callers: none of their contexts may
	// cancel it.
	ctx := context.WithoutCancel(group[0].ctx)
	out, err := writeOps(ctx, b.db, group, b.lockTimeout)
	if isLockTimeout(err) {
		// A row the batch needs is held by a long transaction: each
		// request is written on its own, off this writer, so that only the
		// ones that need that row wait for it.
		for _, p := range group {
			b.alone.Add(1)
			go b.writeAlone(p)
		}
		return
	}
	if err != nil && len(group) > 1 && !db.Retryable(err) {
		// Something in the batch broke it as a whole: write each request
		// alone, so that the error reaches the request that caused it.
		for _, p := range group {
			o, err := writeOps(ctx, b.db, []pending{p}, 0)
			if err != nil {
				p.done <- Outcome{Err: err}
				continue
			}
			p.done <- o[0]
		}
		return
	}
	for i, p := range group {
		if err != nil {
			p.done <- Outcome{Err: err}
			continue
		}
		p.done <- out[i]
	}
}

// setBased are the requests ledger_post_batch writes in its stages (the
// others, reversals, by their own functions in ledger_write_batch).
var setBased = map[string]bool{"post": true, "hold": true, "capture": true, "void": true}

// writeOps writes requests of one kind of statement: one request by its
// own function (ledger_write_one, whose refusal is the error), several
// posts, holds, captures and voids as one ledger_post_batch, reversals as
// one ledger_write_batch.
func writeOps(ctx context.Context, ext sqlx.ExtContext, group []pending, lockTimeout time.Duration) ([]Outcome, error) {
	if len(group) == 1 {
		var res Result
		if err := callJSONTimeout(ctx, ext, "ledger_write_one", lockTimeout, group[0].op, &res.TxID, &res.Replayed); err != nil {
			return nil, err
		}
		return []Outcome{{Result: res}}, nil
	}
	if setBased[group[0].op.Op] { // flush groups these alone
		docs := make([]any, len(group))
		for i, p := range group {
			docs[i] = p.op // {"op", "req"}: ledger_post_batch reads the op
			if p.op.Op == "post" {
				docs[i] = p.op.Req
			}
		}
		return writeDocs(ctx, ext, "ledger_post_batch", docs, len(group), lockTimeout)
	}
	return writeOpsBatch(ctx, ext, group, lockTimeout)
}

// writeOpsBatch writes reversals (any op but a set-based one) as
// ledger_write_batch statements: one that refuses a request writes
// nothing and names it; the request gets its refusal and the others are
// sent again, in the same order, until a statement writes them all.
func writeOpsBatch(ctx context.Context, ext sqlx.ExtContext, group []pending, lockTimeout time.Duration) ([]Outcome, error) {
	out := make([]Outcome, len(group))
	left := make([]int, len(group)) // the group's requests still to write
	for i := range left {
		left[i] = i
	}
	for len(left) > 1 {
		ops := make([]op, len(left))
		for n, i := range left {
			ops[n] = group[i].op
		}
		var raw []byte
		if err := callJSONTimeout(ctx, ext, "ledger_write_batch", lockTimeout, ops, &raw); err != nil {
			return nil, err
		}
		var refused struct {
			At      *int            `json:"refused"`
			Code    string          `json:"code"`
			Message string          `json:"message"`
			Detail  json.RawMessage `json:"detail"`
		}
		if json.Unmarshal(raw, &refused) == nil && refused.At != nil && *refused.At >= 0 && *refused.At < len(left) {
			at := *refused.At
			out[left[at]].Err = sqlError(refused.Code, refused.Message, refused.Detail)
			left = append(left[:at], left[at+1:]...)
			continue
		}
		var results []struct {
			TxID     int64 `json:"tx_id"`
			Replayed bool  `json:"replayed"`
		}
		if err := json.Unmarshal(raw, &results); err != nil || len(results) != len(left) {
			return nil, apperr.Wrap(errors.Join(err, errors.New("ledger_write_batch returned a malformed result")), "reading ledger batch")
		}
		for n, i := range left {
			out[i].Result = Result{TxID: results[n].TxID, Replayed: results[n].Replayed}
		}
		return out, nil
	}
	if len(left) == 1 {
		one, err := writeOps(ctx, ext, []pending{group[left[0]]}, lockTimeout)
		if isLockTimeout(err) {
			return nil, err
		}
		if err != nil { // the request's own error: it was written alone
			one = []Outcome{{Err: err}}
		}
		out[left[0]] = one[0]
	}
	return out, nil
}

// writeAlone writes one request of a batch that timed out waiting for a
// row lock: with the timeout first (most requests of the batch do not need
// the held row), then, if it is the one that does, waiting for the lock as
// long as its caller waits.
func (b *Batcher) writeAlone(p pending) {
	defer b.alone.Done()
	o, err := writeOps(context.WithoutCancel(p.ctx), b.db, []pending{p}, b.lockTimeout)
	if isLockTimeout(err) {
		o, err = writeOps(p.ctx, b.db, []pending{p}, 0)
	}
	if err != nil {
		p.done <- Outcome{Err: err}
		return
	}
	p.done <- o[0]
}
