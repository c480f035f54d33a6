package ledger

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/reciproca/reciproca/internal/apperr"
)

// A Checkpoint is a signed statement "the ledger's audit log had Size
// leaves with root Root". Its text is the C2SP tlog checkpoint: the
// origin (the signing key's name), the size, the root in base64, each on
// its own line; it is signed as a note (golang.org/x/mod/sumdb/note).
type Checkpoint struct {
	Origin string
	Size   int64
	Root   tlog.Hash
	// Note is the signed text, as published.
	Note string
}

// Keys signs checkpoints and checks their signatures.
type Keys struct {
	signer   note.Signer
	verifier note.Verifier
	// VerifierKey is the public key, to give whoever checks checkpoints.
	VerifierKey string
}

// NewKeys reads a note signing key ("PRIVATE+KEY+name+hash+key", as
// GenerateLedgerKey prints) and derives its verifier.
func NewKeys(skey string) (*Keys, error) {
	s, err := note.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("ledger signing key: %w", err)
	}
	// After PRIVATE+KEY+name+hash+ come the algorithm byte and the
	// Ed25519 seed, in base64 (which may hold "+" itself).
	fields := strings.SplitN(skey, "+", 5)
	raw, err := base64.StdEncoding.DecodeString(fields[len(fields)-1])
	if err != nil || len(raw) != 1+ed25519.SeedSize {
		return nil, errors.New("ledger signing key: not an Ed25519 note key")
	}
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	vkey, err := note.NewEd25519VerifierKey(s.Name(), pub)
	if err != nil {
		return nil, err
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, err
	}
	return &Keys{signer: s, verifier: v, VerifierKey: vkey}, nil
}

// GenerateLedgerKey returns a new signing key named name and its verifier key.
func GenerateLedgerKey(name string) (skey, vkey string, err error) {
	return note.GenerateKey(nil, name)
}

// Sign signs a checkpoint of head.
func (k *Keys) Sign(head Head) (Checkpoint, error) {
	text := fmt.Sprintf("%s\n%d\n%s\n", k.signer.Name(), head.Size, base64.StdEncoding.EncodeToString(head.Root[:]))
	signed, err := note.Sign(&note.Note{Text: text}, k.signer)
	if err != nil {
		return Checkpoint{}, err
	}
	return Checkpoint{Origin: k.signer.Name(), Size: head.Size, Root: head.Root, Note: string(signed)}, nil
}

// Open checks a checkpoint's signature and reads it.
func (k *Keys) Open(signed string) (Checkpoint, error) {
	n, err := note.Open([]byte(signed), note.VerifierList(k.verifier))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("checkpoint not signed by this ledger's key (%s): %w", k.signer.Name(), err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 || lines[0] != k.signer.Name() {
		return Checkpoint{}, fmt.Errorf("malformed checkpoint %q", n.Text)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	root, err2 := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || err2 != nil || size < 0 || len(root) != tlog.HashSize {
		return Checkpoint{}, fmt.Errorf("malformed checkpoint %q", n.Text)
	}
	c := Checkpoint{Origin: lines[0], Size: size, Note: signed}
	copy(c.Root[:], root)
	return c, nil
}

// SplitCheckpoints cuts text holding signed checkpoints one after another
// (a roots file) into single notes: a note ends after the signature lines
// ("— …") that follow its blank line.
func SplitCheckpoints(text string) []string {
	var notes []string
	var cur strings.Builder
	inSigs := false
	for _, line := range strings.SplitAfter(text, "\n") {
		switch {
		case inSigs && !strings.HasPrefix(line, "— "):
			notes = append(notes, cur.String())
			cur.Reset()
			inSigs = false
			if strings.TrimSpace(line) == "" {
				continue
			}
		case !inSigs && line == "\n" && cur.Len() > 0:
			inSigs = true
		case !inSigs && strings.TrimSpace(line) == "" && cur.Len() == 0:
			continue
		}
		cur.WriteString(line)
	}
	if strings.TrimSpace(cur.String()) != "" {
		notes = append(notes, cur.String())
	}
	return notes
}

// CurrentCheckpoint seals nothing: it signs the log as it is.
func CurrentCheckpoint(ctx context.Context, q sqlx.QueryerContext, keys *Keys) (Checkpoint, error) {
	head, err := readHead(ctx, q)
	if err != nil {
		return Checkpoint{}, apperr.Wrap(err, "reading the ledger log")
	}
	return keys.Sign(head)
}

// PublishCheckpoint signs the log's current head when the last published
// checkpoint is older than every (or there is none, and the log is not
// empty), and publishes it outside the database: appended to rootsFile
// (when set; before it is recorded, so a recorded checkpoint is always in
// the file) and logged; then it is recorded in ledger_checkpoints, which
// verify checks too. It reports whether it published one.
func PublishCheckpoint(ctx context.Context, dbx *sqlx.DB, keys *Keys, rootsFile string, every time.Duration) (bool, error) {
	tx, err := dbx.BeginTxx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var due bool
	err = tx.GetContext(ctx, &due, `SELECT h.size > 0 AND coalesce((SELECT max(created_at) FROM ledger_checkpoints)
		< now() - make_interval(secs => $1), true) FROM ledger_log_head h FOR UPDATE OF h`, every.Seconds())
	if err != nil || !due {
		return false, apperr.Wrap(err, "publishing a ledger checkpoint")
	}
	cp, err := CurrentCheckpoint(ctx, tx, keys)
	if err != nil {
		return false, err
	}
	if rootsFile != "" {
		if err := appendFile(rootsFile, cp.Note+"\n"); err != nil {
			return false, fmt.Errorf("appending the ledger checkpoint to %s: %w", rootsFile, err)
		}
	}
	slog.InfoContext(ctx, "ledger checkpoint", "size", cp.Size, "root", cp.Root.String(), "checkpoint", cp.Note)
	if _, err := tx.ExecContext(ctx, `INSERT INTO ledger_checkpoints (size, root, note) VALUES ($1, $2, $3)`,
		cp.Size, cp.Root[:], cp.Note); err != nil {
		return false, apperr.Wrap(err, "recording the ledger checkpoint")
	}
	return true, apperr.Wrap(tx.Commit(), "recording the ledger checkpoint")
}

func appendFile(path, text string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(text)
	if err2 := f.Sync(); err == nil {
		err = err2
	}
	return errors.Join(err, f.Close())
}

// OpenCheckpoints reads every checkpoint in text (one, or a roots file),
// checking each signature.
func (k *Keys) OpenCheckpoints(text string) ([]Checkpoint, error) {
	var out []Checkpoint
	for _, n := range SplitCheckpoints(text) {
		c, err := k.Open(n)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no checkpoint found")
	}
	return out, nil
}
