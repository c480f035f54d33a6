package ledger_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/ledger"
)

func testKeys(t testing.TB, name string) *ledger.Keys {
	t.Helper()
	skey, _, err := ledger.GenerateLedgerKey(name)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ledger.NewKeys(skey)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// someHistory writes n allocations and a redemption and seals them.
func someHistory(c *chart, n int) {
	c.t.Helper()
	w := c.wallet(1)
	c.topUp("t", 1000_00)
	for i := 0; i < n; i++ {
		c.allocate(fmt.Sprint("a", i), w, int64(10_00+i), nil)
	}
	c.post(ledger.Request{Key: "r", Split: &ledger.Split{Policy: policy, From: w, Gross: 7_00, Provider: payable, Fund: pool, Fees: fees}})
	c.sealAll()
}

// rebuildLog is what someone who can write the database as its owner does
// to rewrite history: change rows behind the triggers' back, throw the log
// away and seal everything again. The log is then consistent with itself.
func (c *chart) rebuildLog(damage string) {
	c.t.Helper()
	_, err := c.db.Exec(`
		ALTER TABLE ledger_transactions DISABLE TRIGGER USER; ALTER TABLE ledger_entries DISABLE TRIGGER USER;
		ALTER TABLE ledger_log DISABLE TRIGGER USER; ALTER TABLE ledger_log_hashes DISABLE TRIGGER USER;
		ALTER TABLE ledger_checkpoints DISABLE TRIGGER USER;
		` + damage + `;
		DELETE FROM ledger_log; DELETE FROM ledger_log_hashes; DELETE FROM ledger_checkpoints;
		UPDATE ledger_log_head SET size = 0, root = sha256(''::bytea), last_xid = '0', last_tx = 0;
		ALTER TABLE ledger_transactions ENABLE TRIGGER USER; ALTER TABLE ledger_entries ENABLE TRIGGER USER;
		ALTER TABLE ledger_log ENABLE TRIGGER USER; ALTER TABLE ledger_log_hashes ENABLE TRIGGER USER;
		ALTER TABLE ledger_checkpoints ENABLE TRIGGER USER`)
	c.ok(err)
	c.sealAll()
}

// Whoever kept a checkpoint sees a rewritten history, even one re-sealed
// into a log that is consistent with itself; a TRUNCATE is refused outright.
func TestLogDetectsRewrittenHistory(t *testing.T) {
	keys := testKeys(t, "ledger.test")
	for _, tc := range []struct{ name, damage, want string }{
		{"forged and resealed", `UPDATE ledger_transactions SET reference = 'forged' WHERE id = 3`, "does not extend checkpoint"},
		// the last two: one after the checkpoint, one before
		{"truncated and resealed", `DELETE FROM ledger_entries WHERE tx_id >= (SELECT max(id) - 1 FROM ledger_transactions);
			DELETE FROM ledger_transactions WHERE id >= (SELECT max(id) - 1 FROM ledger_transactions)`, "fewer than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newChart(t)
			someHistory(c, 6)
			rootsFile := filepath.Join(t.TempDir(), "roots")
			published, err := ledger.PublishCheckpoint(c.ctx, c.db, keys, rootsFile, 24*time.Hour)
			c.ok(err)
			again, err := ledger.PublishCheckpoint(c.ctx, c.db, keys, rootsFile, 24*time.Hour)
			c.ok(err)
			if !published || again {
				t.Fatalf("published %v then %v, want one checkpoint a day", published, again)
			}
			text, err := os.ReadFile(rootsFile)
			c.ok(err)
			roots, err := keys.OpenCheckpoints(string(text))
			c.ok(err)
			c.allocate("later", wallet(1), 1_00, nil)
			c.sealAll()
			rep, err := ledger.VerifyWith(c.ctx, c.db, ledger.VerifyOptions{Roots: roots})
			c.ok(err)
			if !rep.OK {
				t.Fatalf("an honest log that grew fails its old checkpoint: %+v", rep.Checks)
			}

			for _, stmt := range []string{`TRUNCATE ledger_log`, `TRUNCATE ledger_log_hashes`, `TRUNCATE ledger_checkpoints`,
				`TRUNCATE ledger_transactions, ledger_entries`, `DELETE FROM ledger_log`, `UPDATE ledger_log_hashes SET hash = ''`} {
				if _, err := c.db.Exec(stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
					t.Errorf("as the owner, %q: %v, want refused by the trigger", stmt, err)
				}
			}

			c.rebuildLog(tc.damage)
			rep, err = ledger.Verify(c.ctx, c.db)
			c.ok(err)
			if failed(rep, "log") != 0 {
				t.Fatalf("the rebuilt log is not self-consistent, so this test proves nothing: %+v", rep.Checks)
			}
			rep, err = ledger.VerifyWith(c.ctx, c.db, ledger.VerifyOptions{Roots: roots})
			c.ok(err)
			if rep.OK || failed(rep, "log") <= 0 || !strings.Contains(strings.Join(example(rep, "log"), " "), tc.want) {
				t.Fatalf("rewritten history not detected against the old checkpoint: %+v", rep.Checks)
			}
		})
	}
}

func example(r ledger.Report, name string) []string {
	for _, c := range r.Checks {
		if c.Name == name {
			return c.Examples
		}
	}
	return nil
}

// An inclusion proof convinces whoever holds the verifier key that a
// transaction is in the log, and fails when the leaf, its place or the
// checkpoint's signer is not the real one.
func TestInclusionProof(t *testing.T) {
	c := newChart(t)
	keys := testKeys(t, "ledger.test")
	w := c.wallet(1)
	c.topUp("t", 100_00)
	// Sealed a few at a time: the tree grows across many seals, reading
	// the hashes earlier seals stored.
	var ids []int64
	for i := 0; i < 13; i++ {
		ids = append(ids, c.allocate(fmt.Sprint("a", i), w, 1_00, nil).TxID)
		if i%3 == 0 {
			_, err := ledger.Seal(c.ctx, c.db, 2)
			c.ok(err)
		}
	}
	c.sealAll()
	c.verify()

	p, err := ledger.Prove(c.ctx, c.db, keys, ids[5])
	c.ok(err)
	if !strings.Contains(p.Leaf, `"kind": "allocation"`) || !strings.Contains(p.Leaf, fmt.Sprintf(`"id": %d`, ids[5])) {
		t.Fatalf("the proof's leaf is not the transaction: %s", p.Leaf)
	}
	raw, err := json.Marshal(p)
	c.ok(err)
	var back ledger.InclusionProof
	c.ok(json.Unmarshal(raw, &back))
	c.ok(ledger.CheckInclusion(back, keys))

	tampered := back
	tampered.Leaf = strings.Replace(back.Leaf, `"amount": 100`, `"amount": 10000`, 1)
	if tampered.Leaf == back.Leaf {
		t.Fatalf("test leaf has no amount 100: %s", back.Leaf)
	}
	moved := back
	moved.Index++
	other := back
	forged, err := testKeys(t, "ledger.test").Sign(ledger.Head{Size: 14})
	c.ok(err)
	other.Checkpoint = forged.Note
	for name, bad := range map[string]ledger.InclusionProof{"tampered leaf": tampered, "other index": moved, "other signer": other} {
		if err := ledger.CheckInclusion(bad, keys); err == nil {
			t.Errorf("%s: the proof still checks", name)
		}
	}

	// The log grows; the old proof still holds against its own checkpoint.
	c.allocate("more", w, 1_00, nil)
	c.sealAll()
	c.ok(ledger.CheckInclusion(back, keys))

	// An unsealed transaction has no proof yet.
	late := c.allocate("late", w, 1_00, nil)
	_, err = ledger.Prove(c.ctx, c.db, keys, late.TxID)
	wantCode(t, err, apperr.NotFound)

	// A transaction changed after sealing cannot be proved.
	_, err = c.db.Exec(fmt.Sprintf(`ALTER TABLE ledger_transactions DISABLE TRIGGER USER;
		UPDATE ledger_transactions SET reference = 'forged' WHERE id = %d;
		ALTER TABLE ledger_transactions ENABLE TRIGGER USER`, ids[2]))
	c.ok(err)
	if _, err := ledger.Prove(c.ctx, c.db, keys, ids[2]); err == nil {
		t.Fatal("a forged transaction was proved")
	}
}

// Verify fails when sealing has fallen behind.
func TestVerifyReportsSealingBacklog(t *testing.T) {
	c := newChart(t)
	c.topUp("t", 1_00)
	time.Sleep(20 * time.Millisecond)
	rep, err := ledger.VerifyWith(c.ctx, c.db, ledger.VerifyOptions{MaxSealLag: 10 * time.Millisecond})
	c.ok(err)
	if rep.OK || failed(rep, "sealing") != 1 {
		t.Fatalf("an unsealed transaction older than the lag is not reported: %+v", rep.Checks)
	}
	c.sealAll()
	rep, err = ledger.VerifyWith(c.ctx, c.db, ledger.VerifyOptions{MaxSealLag: 10 * time.Millisecond})
	c.ok(err)
	if !rep.OK {
		t.Fatalf("after sealing: %+v", rep.Checks)
	}
}

// A roots file is checkpoints one after another; each is read back.
func TestRootsFileReadsBack(t *testing.T) {
	keys := testKeys(t, "ledger.test")
	var text string
	for i := int64(1); i <= 3; i++ {
		cp, err := keys.Sign(ledger.Head{Size: i})
		if err != nil {
			t.Fatal(err)
		}
		text += cp.Note + "\n"
	}
	cps, err := keys.OpenCheckpoints(text)
	if err != nil || len(cps) != 3 || cps[2].Size != 3 {
		t.Fatalf("read %d checkpoints (%v) from\n%s", len(cps), err, text)
	}
	if _, err := keys.OpenCheckpoints(strings.Replace(text, "\n2\n", "\n20\n", 1)); err == nil {
		t.Fatal("an altered checkpoint was accepted")
	}
}
