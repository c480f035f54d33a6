package ledger

import (
	"context"

	"github.com/jmoiron/sqlx"
)

// VoidRequest is a void for SubmitAll and WriteSetBased.
type VoidRequest struct{ HoldID int64 }

// testOp is the Batcher's op for a Request (post), HoldRequest,
// CaptureRequest or VoidRequest, or the validation error.
func testOp(r any) (op, error) {
	switch r := r.(type) {
	case Request:
		return op{Op: "post", Req: wire{Request: r.canonical()}}, r.Validate()
	case HoldRequest:
		return op{Op: "hold", Req: r.wire()}, r.Validate()
	case CaptureRequest:
		return op{Op: "capture", Req: r.canonical()}, r.Validate()
	case VoidRequest:
		return op{Op: "void", Req: map[string]int64{"hold_id": r.HoldID}}, nil
	}
	panic("testOp: unknown request")
}

// SubmitAll queues reqs on the Batcher's first writer in order, without
// waiting for one before the next, and then waits for all: they are
// written in that order, in shared batches.
func (b *Batcher) SubmitAll(ctx context.Context, reqs []any) []Outcome {
	ps := make([]pending, len(reqs))
	out := make([]Outcome, len(reqs))
	for i, r := range reqs {
		o, err := testOp(r)
		if err != nil {
			out[i].Err = err
			continue
		}
		ps[i] = pending{ctx: ctx, op: o, done: make(chan Outcome, 1)}
		b.queues[0] <- ps[i]
	}
	for i, p := range ps {
		if p.done != nil {
			out[i] = <-p.done
		}
	}
	return out
}

// WriteSetBased writes reqs as one ledger_post_batch, however many (the
// Batcher sends a request alone by its own function); inside a
// transaction (ext a *sqlx.Tx) in its locking mode.
func WriteSetBased(ctx context.Context, ext sqlx.ExtContext, reqs []any) ([]Outcome, error) {
	docs := make([]any, len(reqs))
	for i, r := range reqs {
		o, err := testOp(r)
		if err != nil {
			return nil, err
		}
		docs[i] = o
	}
	return writeDocs(ctx, ext, "ledger_post_batch", docs, len(reqs), 0)
}
