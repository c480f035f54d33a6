package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/reciproca/reciproca/internal/config"
	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/ledger"
)

// errLedgerViolated makes `reciproca ledger verify` exit non-zero.
var errLedgerViolated = errors.New("ledger invariants violated (see the report above)")

// ledgerCmd runs `reciproca ledger CMD ARGS…`.
func ledgerCmd(ctx context.Context, cfg config.Config, cmd string, args []string, out io.Writer) error {
	keys, err := ledger.NewKeys(cfg.Ledger.SigningKey)
	if err != nil {
		return err
	}
	dbx, err := db.Open(ctx, cfg.DatabaseURL, 2)
	if err != nil {
		return err
	}
	defer dbx.Close()
	switch {
	case cmd == "seal" && len(args) == 0:
		n, err := ledger.SealAll(ctx, dbx)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "ledger: %d transaction(s) sealed\n", n)
		return nil
	case cmd == "checkpoint" && len(args) == 0:
		if _, err := ledger.SealAll(ctx, dbx); err != nil {
			return err
		}
		if _, err := ledger.PublishCheckpoint(ctx, dbx, keys, cfg.Ledger.RootsFile, 0); err != nil {
			return err
		}
		cp, err := ledger.CurrentCheckpoint(ctx, dbx, keys)
		if err != nil {
			return err
		}
		fmt.Fprint(out, cp.Note)
		return nil
	case cmd == "prove" && len(args) == 1:
		id, err := strconv.ParseInt(args[0], 10, 64)
		if err != nil {
			return fmt.Errorf("prove: %q is not a transaction id", args[0])
		}
		p, err := ledger.Prove(ctx, dbx, keys, id)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(p)
	case cmd == "close-period" && len(args) == 3:
		through, err := parseInstant(args[0], true)
		if err != nil {
			return err
		}
		closed, err := ledger.ClosePeriod(ctx, dbx, through, args[1], args[2])
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "ledger: closed through %s\n", closed.Format(time.RFC3339Nano))
		return nil
	case cmd == "grant-backdate" && len(args) == 4:
		earliest, err := parseInstant(args[1], false)
		if err != nil {
			return err
		}
		if err := ledger.GrantBackdate(ctx, dbx, args[0], earliest, args[2], args[3]); err != nil {
			return err
		}
		fmt.Fprintf(out, "ledger: %q may take effect from %s\n", args[0], earliest.Format(time.RFC3339Nano))
		return nil
	case cmd == "verify":
		opts := ledger.VerifyOptions{MaxSealLag: cfg.Ledger.MaxSealLag}
		switch {
		case len(args) == 2 && args[0] == "--root":
			text, err := readRoots(args[1])
			if err != nil {
				return err
			}
			if opts.Roots, err = keys.OpenCheckpoints(text); err != nil {
				return err
			}
		case len(args) != 0:
			return errUsage
		}
		rep, err := ledger.VerifyWith(ctx, dbx, opts)
		if err != nil {
			return err
		}
		rep.Write(out)
		if len(opts.Roots) > 0 {
			fmt.Fprintf(out, "ledger: checked against %d earlier checkpoint(s), the last of %d records\n",
				len(opts.Roots), opts.Roots[len(opts.Roots)-1].Size)
		}
		if !rep.OK {
			return errLedgerViolated
		}
		return nil
	}
	return errUsage
}

// parseInstant reads an instant given as RFC 3339, or as a date
// (2026-06-30) meaning, in Italian time, the last microsecond of that day
// (end) or its first (not end).
func parseInstant(s string, end bool) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		return time.Time{}, err
	}
	d, err := time.ParseInLocation("2006-01-02", s, rome)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither a date (2026-06-30) nor an RFC 3339 instant", s)
	}
	if end {
		return d.AddDate(0, 0, 1).Add(-time.Microsecond), nil
	}
	return d, nil
}

// readRoots reads checkpoints given on the command line: the text itself
// (it has several lines), - for stdin, or a file.
func readRoots(arg string) (string, error) {
	if strings.Contains(arg, "\n") {
		return arg, nil
	}
	var b []byte
	var err error
	if arg == "-" {
		b, err = io.ReadAll(os.Stdin)
	} else {
		b, err = os.ReadFile(arg)
	}
	return string(b), err
}

// ledgerKeygen prints a new checkpoint signing key for LEDGER_SIGNING_KEY
// and the verifier key to give whoever checks the checkpoints.
func ledgerKeygen(args []string, out io.Writer) error {
	name := "reciproca-ledger"
	if len(args) == 1 {
		name = args[0]
	} else if len(args) > 1 {
		return errUsage
	}
	skey, vkey, err := ledger.GenerateLedgerKey(name)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "# LEDGER_SIGNING_KEY (keep it secret)\n%s\n# its verifier key (publish it)\n%s\n", skey, vkey)
	return nil
}
