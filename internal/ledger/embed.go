package ledger

import "fmt"

// Embedded is a hold or a capture that a caller writes inside a statement
// of its own, with what it writes alongside (a domain's row that records
// the hold, say): one round trip and one transaction for both, where Hold
// or Capture and the caller's statement take two, and, in the caller's
// transaction, keep the accounts' row locks across the round trip between
// them. The guarantees are Hold's and Capture's: the request is checked
// and written the same way, by the same SQL function.
//
// Call is a call of the function, returning one row (tx_id bigint,
// replayed boolean); the caller binds Arg as its parameter number n and
// calls it once per row that should write, in the target list of a
// MATERIALIZED common table expression (a function in FROM may be run
// whatever the join finds):
//
//	WITH h AS MATERIALIZED (SELECT (<Call>).tx_id FROM <the row that decides>)
//	INSERT … SELECT h.tx_id FROM h
//
// Rows the call writes are not visible to the rest of that statement (its
// snapshot is older), only to later ones. Errors of the statement go
// through MapError. Without a transaction of the caller's, a serialization
// failure or a deadlock (db.Retryable) means nothing was written: the
// caller sends the statement again.
type Embedded struct {
	Call string
	Arg  string
}

// EmbedHold is Hold as an Embedded call, bound as parameter n.
func EmbedHold(r HoldRequest, n int) (Embedded, error) {
	if err := r.Validate(); err != nil {
		return Embedded{}, err
	}
	// locking mode: the caller's statement writes more after the call
	return embed(fmt.Sprintf("ledger_post($%d::jsonb, true)", n), r.wire())
}

// EmbedCapture is Capture as an Embedded call, bound as parameter n.
func EmbedCapture(r CaptureRequest, n int) (Embedded, error) {
	if err := r.Validate(); err != nil {
		return Embedded{}, err
	}
	return embed(fmt.Sprintf("ledger_capture($%d::jsonb)", n), r.canonical())
}

func embed(call string, req any) (Embedded, error) {
	body, err := encodeRequest(req)
	return Embedded{Call: call, Arg: string(body)}, err
}

// MapError turns an error the SQL function of an Embedded call raised
// into the application error Hold or Capture would have returned (an
// *apperr.Error); any other error comes back as it was.
func MapError(err error) error {
	if e := functionError(err); e != nil {
		return e
	}
	return err
}
