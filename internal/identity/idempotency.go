package identity

import (
	"github.com/google/uuid"

	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"
)

// keyScope is the idempotency scope of the actor's operation op: keys
// belong to the person who sent them (see db.Idempotent), never to their
// organisation.
func keyScope(actor *auth.Principal, op string) db.Scope {
	return db.Scope{Caller: actor.UserID, Operation: "identity." + op}
}

// fileRequest identifies an upload for its idempotency key: the
// organisation it goes into and the file, by its digest.
type fileRequest struct {
	Org  uuid.UUID `json:"org"`
	File string    `json:"file"`
}
