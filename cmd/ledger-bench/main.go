// Command ledger-bench measures the ledger's write throughput against the
// raw ceiling of the same PostgreSQL (`make bench-ledger`; results go in
// docs/benchmarks.md). It is a benchmark, not a test: it asserts nothing.
//
//	ledger-bench -server postgres://… [-d 5s] [-rounds 3] [-clients 1,8,32,64]
//
// It creates a scratch database on the server, then, round after round and
// interleaved so that the machine's noise spreads evenly, runs for -d each:
//
//	raw  pgbench calling a PL/pgSQL transfer that locks two balance rows in
//	     id order, inserts a transaction and two entries, updates both
//	     balances: one round trip (the ceiling)
//	a    a ledger.Batcher posting wallet → provider payable (10,000
//	     wallets, 100 providers)
//	b    the same Batcher posting a split: wallet → provider / fund pool /
//	     fees, consuming the wallet's lots, the pool credited every time
//	b-cold  (b) with a fund pool and a fee account per client: nothing hot
//	        is shared
//	c    the same Batcher's Hold then Capture with the same split (2 calls)
//
// and at 32 clients the ways of sending (b) one call per redemption
// (ledger.Post): literal (the ledger's simple protocol), a $1 parameter
// (two round trips with lib/pq), $1 with binary_parameters=yes, inside
// a domain transaction (BEGIN … COMMIT), and as a batch of one
// (ledger_post_batch, what ledger.Post was before it took the locking
// path); and (c) by the plain ledger.Hold and ledger.Capture.
// Before the rounds it fills the ledger to 1M entries, seals the chain and
// times ledger.Verify (so the workloads then run on a ledger of that size),
// and times earmarking a whole fund pool of 100,000 contributions.
// It prints medians over the rounds as Markdown.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/db/dbtest"
	"github.com/reciproca/reciproca/internal/ledger"
)

const (
	nWallets   = 10000
	nProviders = 100
	policy     = "bench"
)

type result struct {
	tps      float64
	p50, p99 time.Duration
}

func main() {
	server := flag.String("server", os.Getenv("TEST_DATABASE_URL"), "PostgreSQL server (admin URL)")
	dur := flag.Duration("d", 5*time.Second, "duration of each run")
	rounds := flag.Int("rounds", 3, "interleaved rounds (medians are reported)")
	clientsFlag := flag.String("clients", "1,8,32,64", "client counts")
	pgbench := flag.String("pgbench", "/usr/lib/postgresql/15/bin/pgbench", "pgbench binary")
	fill := flag.Int("verify-entries", 1_000_000, "fill the ledger to this many entries before timing verify")
	poolLots := flag.Int("earmark-lots", 100_000, "time earmarking a whole fund pool of this many contributions, grouped into day lots (0: skip)")
	keep := flag.String("keep", "", "set up database NAME, keep it and exit (for profiling)")
	var bo ledger.BatcherOptions
	flag.IntVar(&bo.MaxBatch, "batch-max", 0, "Batcher.MaxBatch (0: the default)")
	flag.IntVar(&bo.Writers, "batch-writers", 0, "Batcher.Writers (0: the default)")
	flag.IntVar(&bo.Lanes, "batch-lanes", 0, "Batcher.Lanes (0: the default)")
	noDrop := flag.Bool("no-drop", false, "keep the scratch database after the run (to read its statistics: pg_stat_user_functions)")
	only := flag.String("workloads", "", "run only these workloads and variants, comma-separated (e.g. b,c: to profile them; default all)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of this process (the Go side: clients and Batcher) over the rounds to this file")
	flag.Parse()
	if *server == "" {
		fail(fmt.Errorf("no server: set TEST_DATABASE_URL or -server"))
	}
	var clients []int
	for _, s := range strings.Split(*clientsFlag, ",") {
		n, err := strconv.Atoi(s)
		if err != nil {
			fail(err)
		}
		clients = append(clients, n)
	}
	ctx := context.Background()
	name := fmt.Sprintf("ledger_bench_%d", os.Getpid())
	if *keep != "" {
		name = *keep
	}
	admin, err := db.Open(ctx, *server, 2)
	fail(err)
	_, err = admin.Exec(`CREATE DATABASE ` + name)
	fail(err)
	if *keep == "" && !*noDrop {
		defer admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
	}
	url := dbtest.URLFor(*server, name)
	dbx, err := db.Open(ctx, url, 80)
	fail(err)
	fail(db.Migrate(ctx, dbx.DB))
	start := time.Now()
	fail(setup(ctx, dbx, slices.Max(clients)))
	fmt.Fprintf(os.Stderr, "setup: %s\n", time.Since(start).Round(time.Millisecond))
	if *keep != "" {
		return
	}
	entries, verifyTook, err := timeVerify(ctx, dbx, *fill)
	fail(err)
	var smallTook, earmarkTook time.Duration
	var dayLots int
	if *poolLots > 0 {
		smallTook, earmarkTook, dayLots, err = timeEarmark(ctx, dbx, *poolLots)
		fail(err)
		fmt.Fprintf(os.Stderr, "earmark: 1 euro of a pool of %d contributions (%d day lots) in %s, the whole pool in %s\n",
			*poolLots, dayLots, smallTook.Round(time.Millisecond), earmarkTook.Round(time.Millisecond))
	}
	fmt.Fprintf(os.Stderr, "verify: %d entries in %s\n", entries, verifyTook.Round(10*time.Millisecond))
	script, err := rawSetup(dbx)
	fail(err)
	defer os.RemoveAll(filepath.Dir(script))

	binURL := url + "&binary_parameters=yes"
	if !strings.Contains(url, "?") {
		binURL = url + "?binary_parameters=yes"
	}
	dbBin, err := db.Open(ctx, binURL, 80)
	fail(err)
	bat := ledger.NewBatcher(dbx, bo)
	defer bat.Close()
	load := bench{dbx: dbx, dbBin: dbBin, bat: bat}

	type run struct {
		name    string
		clients int
	}
	runs := map[run][]result{}
	workloads := []string{"raw", "a", "b", "b-cold", "c"}
	variants := []string{"b-single", "b-param", "b-binary", "b-tx", "b-batch1", "c-single"}
	if !slices.Contains(clients, 32) {
		variants = append(variants, "b")
	}
	if *only != "" {
		keep := strings.Split(*only, ",")
		in := func(w string) bool { return !slices.Contains(keep, w) }
		workloads = slices.DeleteFunc(workloads, in)
		variants = slices.DeleteFunc(variants, in)
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		fail(err)
		fail(pprof.StartCPUProfile(f))
	}
	for r := 0; r < *rounds; r++ {
		for _, n := range clients {
			for _, w := range workloads {
				var res result
				if w == "raw" {
					res, err = runPgbench(*pgbench, url, script, n, *dur)
					fail(err)
				} else {
					res = load.run(ctx, w, n, *dur, r)
				}
				runs[run{w, n}] = append(runs[run{w, n}], res)
				fmt.Fprintf(os.Stderr, "round %d %-8s %2d clients: %7.0f tx/s p50 %s p99 %s\n", r+1, w, n, res.tps,
					res.p50.Round(10*time.Microsecond), res.p99.Round(10*time.Microsecond))
			}
		}
		for _, w := range variants {
			res := load.run(ctx, w, 32, *dur, r)
			runs[run{w, 32}] = append(runs[run{w, 32}], res)
			fmt.Fprintf(os.Stderr, "round %d %-8s 32 clients: %7.0f tx/s p50 %s p99 %s\n", r+1, w, res.tps,
				res.p50.Round(10*time.Microsecond), res.p99.Round(10*time.Microsecond))
		}
	}
	if *cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	med := func(w string, n int) result { return median(runs[run{w, n}]) }

	fmt.Printf("Medians of %d interleaved rounds of %s per run.\n\n", *rounds, *dur)
	fmt.Println("| clients | raw tx/s | (a) tx/s | (b) tx/s | (b-cold) tx/s | (c) lifecycles/s | (b)/raw | (b)/(b-cold) | (c)/raw | raw p50/p99 | (a) p50/p99 | (b) p50/p99 | (b-cold) p50/p99 | (c) p50/p99 |")
	fmt.Println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|---|---|")
	for _, n := range clients {
		raw, a, b, bc, c := med("raw", n), med("a", n), med("b", n), med("b-cold", n), med("c", n)
		fmt.Printf("| %d | %.0f | %.0f | %.0f | %.0f | %.0f | %.2f | %.2f | %.2f | %s | %s | %s | %s | %s |\n", n, raw.tps, a.tps,
			b.tps, bc.tps, c.tps, b.tps/raw.tps, b.tps/bc.tps, c.tps/raw.tps, lat(raw), lat(a), lat(b), lat(bc), lat(c))
	}
	fmt.Println("\nWays of sending (b), 32 clients:")
	fmt.Println("\n| variant | tx/s | p50/p99 |")
	fmt.Println("|---|---:|---|")
	for _, v := range []struct{ w, label string }{
		{"b", "batched by a `ledger.Batcher` (the workload above)"},
		{"b-single", "one `ledger.Post` per redemption: literal, simple protocol"},
		{"b-param", "`$1` parameter, default lib/pq (two round trips)"},
		{"b-binary", "`$1` parameter, `binary_parameters=yes`"},
		{"b-tx", "literal inside a domain transaction (BEGIN, post, COMMIT)"},
		{"b-batch1", "a batch of one, `ledger_post_batch('[…]')` (what `ledger.Post` was before this run's code)"},
	} {
		m := med(v.w, 32)
		fmt.Printf("| %s | %.0f | %s |\n", v.label, m.tps, lat(m))
	}

	cs := med("c-single", 32)
	fmt.Printf("\n(c) at 32 clients by the plain `ledger.Hold` and `ledger.Capture`: %.0f lifecycles/s, %s (through the Batcher: %.0f, %s)\n",
		cs.tps, lat(cs), med("c", 32).tps, lat(med("c", 32)))
	// a lifecycle is two transactions: 1.0 means a batched hold or capture
	// costs what a batched redemption costs
	fmt.Printf("\nLedger transactions of (c) against (b), 32 clients: 2 × %.0f / %.0f = %.2f\n",
		med("c", 32).tps, med("b", 32).tps, 2*med("c", 32).tps/med("b", 32).tps)
	fmt.Printf("\n`ledger verify` over %d entries: %s\n", entries, verifyTook.Round(10*time.Millisecond))
	if *poolLots > 0 {
		fmt.Printf("\nEarmarking 1 euro of a fund pool of %d contributions (%d day lots): %s; then the whole pool "+
			"(one `ledger.Post`, pool → envelope, lots moved along): %s\n",
			*poolLots, dayLots, smallTook.Round(time.Millisecond), earmarkTook.Round(time.Millisecond))
	}
}

func lat(r result) string {
	return fmt.Sprintf("%.2f / %.2f ms", float64(r.p50.Microseconds())/1000, float64(r.p99.Microseconds())/1000)
}

func median(rs []result) result {
	if len(rs) == 0 {
		return result{}
	}
	pick := func(f func(result) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	return result{
		tps: pick(func(r result) float64 { return r.tps }),
		p50: time.Duration(pick(func(r result) float64 { return float64(r.p50) })),
		p99: time.Duration(pick(func(r result) float64 { return float64(r.p99) })),
	}
}

func fail(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "ledger-bench:", err)
		os.Exit(1)
	}
}

var zero int64

func wallet(i int) string   { return fmt.Sprintf("employee:%d:wallet", i) }
func provider(i int) string { return fmt.Sprintf("provider:%d:payable", i) }

// setup creates the chart of accounts (with (b-cold)'s fund and fee
// accounts for up to maxClients clients) and gives every wallet a large lot.
func setup(ctx context.Context, dbx *sqlx.DB, maxClients int) error {
	specs := []ledger.AccountSpec{
		{Path: "platform:stripe", Kind: ledger.Asset},
		{Path: "platform:fees", Kind: ledger.Revenue, Shards: 16},
		{Path: "company:1:budget", Kind: ledger.Liability, Floor: &zero},
		{Path: "fund:1:pool", Kind: ledger.Liability, Floor: &zero, Lots: true, Shards: 16},
	}
	for i := 0; i < nProviders; i++ {
		specs = append(specs, ledger.AccountSpec{Path: provider(i), Kind: ledger.Liability, Floor: &zero})
	}
	for g := 0; g < maxClients; g++ { // shaped as the hot ones, only not shared
		specs = append(specs, ledger.AccountSpec{Path: coldFees(g), Kind: ledger.Revenue, Shards: 16},
			ledger.AccountSpec{Path: coldFund(g), Kind: ledger.Liability, Floor: &zero, Lots: true, Shards: 16})
	}
	for i := 0; i < nWallets; i++ {
		specs = append(specs, ledger.AccountSpec{Path: wallet(i), Kind: ledger.Liability, Floor: &zero, Lots: true})
	}
	for _, s := range specs {
		if _, err := ledger.CreateAccount(ctx, dbx, s); err != nil {
			return err
		}
	}
	if _, err := ledger.CreatePolicy(ctx, dbx, ledger.SplitPolicy{Name: policy, ValidFrom: time.Unix(0, 0),
		FundBps: 1500, FeeBps: 500, RemainderTo: ledger.ToProvider}); err != nil {
		return err
	}
	const each = 100_000_000_00
	if _, err := ledger.Post(ctx, dbx, ledger.Request{Key: "topup", Postings: []ledger.Posting{
		{From: "platform:stripe", To: "company:1:budget", Amount: each / 10000 * nWallets}}}); err != nil {
		return err
	}
	far := time.Now().AddDate(5, 0, 0)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := g; i < nWallets; i += 8 {
				_, err := ledger.Post(ctx, dbx, ledger.Request{Key: fmt.Sprintf("alloc-%d", i), Postings: []ledger.Posting{{
					From: "company:1:budget", To: wallet(i), Amount: each / 10000,
					Lot: &ledger.LotSpec{ExpiresAt: &far, Categories: []string{"sport", "culture"}}}}})
				if err != nil {
					errs <- err
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// rawSetup creates the plain-SQL transfer of the raw ceiling and returns
// the pgbench script calling it.
func rawSetup(dbx *sqlx.DB) (string, error) {
	_, err := dbx.Exec(`
		CREATE TABLE raw_balances (id int PRIMARY KEY, balance bigint NOT NULL) WITH (fillfactor = 50);
		INSERT INTO raw_balances SELECT g, 0 FROM generate_series(1, 10100) g;
		CREATE TABLE raw_tx (id bigserial PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now());
		CREATE TABLE raw_entries (id bigserial PRIMARY KEY, tx_id bigint NOT NULL, account_id int NOT NULL, amount bigint NOT NULL);
		CREATE INDEX ON raw_entries (tx_id);
		CREATE INDEX ON raw_entries (account_id, id);
		CREATE FUNCTION raw_transfer(a int, b int, amt bigint) RETURNS bigint LANGUAGE plpgsql AS $$
		DECLARE t bigint;
		BEGIN
			PERFORM 1 FROM raw_balances WHERE id IN (a, b) ORDER BY id FOR UPDATE;
			INSERT INTO raw_tx DEFAULT VALUES RETURNING id INTO t;
			INSERT INTO raw_entries (tx_id, account_id, amount) VALUES (t, a, -amt), (t, b, amt);
			UPDATE raw_balances SET balance = balance - amt WHERE id = a;
			UPDATE raw_balances SET balance = balance + amt WHERE id = b;
			RETURN t;
		END $$;`)
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "ledger-bench")
	if err != nil {
		return "", err
	}
	script := filepath.Join(dir, "transfer.sql")
	return script, os.WriteFile(script, []byte("\\set a random(1, 10000)\n\\set b random(10001, 10100)\nSELECT raw_transfer(:a, :b, 1);\n"), 0o644)
}

var tpsRe = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

// runPgbench runs the raw transfer and reads latencies from its
// per-transaction log.
func runPgbench(bin, url, script string, clients int, d time.Duration) (result, error) {
	dir := filepath.Dir(script)
	prefix := filepath.Join(dir, fmt.Sprintf("log%d", time.Now().UnixNano()))
	threads := min(clients, 2)
	cmd := exec.Command(bin, "-n", "-M", "prepared", "-f", script, "-c", strconv.Itoa(clients), "-j", strconv.Itoa(threads),
		"-T", strconv.Itoa(int(d.Seconds())), "-l", "--log-prefix", prefix, url)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return result{}, fmt.Errorf("pgbench: %v\n%s", err, out)
	}
	m := tpsRe.FindSubmatch(out)
	if m == nil {
		return result{}, fmt.Errorf("pgbench output without tps:\n%s", out)
	}
	tps, _ := strconv.ParseFloat(string(m[1]), 64)
	var lats []time.Duration
	files, _ := filepath.Glob(prefix + "*")
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return result{}, err
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) >= 3 {
				us, _ := strconv.Atoi(fields[2])
				lats = append(lats, time.Duration(us)*time.Microsecond)
			}
		}
		fh.Close()
		os.Remove(f)
	}
	r := percentiles(lats)
	r.tps = tps
	return r, nil
}

func percentiles(lats []time.Duration) result {
	if len(lats) == 0 {
		return result{}
	}
	slices.Sort(lats)
	return result{p50: lats[len(lats)/2], p99: lats[len(lats)*99/100]}
}

// bench is what the Go workloads write through.
type bench struct {
	dbx, dbBin *sqlx.DB
	bat        *ledger.Batcher
}

// run runs one workload through the Go API with n clients for d.
func (b bench) run(ctx context.Context, w string, n int, d time.Duration, round int) result {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var mu sync.Mutex
	var all []time.Duration
	var wg sync.WaitGroup
	began := time.Now()
	for g := 0; g < n; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), uint64(time.Now().UnixNano())))
			var lats []time.Duration
			for i := 0; ctx.Err() == nil; i++ {
				key := fmt.Sprintf("%s-%d-%d-%d-%d", w, n, round, g, i)
				wal, prov := wallet(rng.IntN(nWallets)), provider(rng.IntN(nProviders))
				t0 := time.Now()
				err := b.op(ctx, w, key, wal, prov, g)
				if ctx.Err() != nil {
					break
				}
				if err != nil {
					fail(fmt.Errorf("%s: %w", w, err))
				}
				lats = append(lats, time.Since(t0))
			}
			mu.Lock()
			all = append(all, lats...)
			mu.Unlock()
		}(g)
	}
	wg.Wait()
	r := percentiles(all)
	r.tps = float64(len(all)) / time.Since(began).Seconds()
	return r
}

func split(wal, prov string) *ledger.Split {
	return &ledger.Split{Policy: policy, From: wal, Gross: int64(1_00 + rand.IntN(50_00)), Category: "sport",
		Provider: prov, Fund: "fund:1:pool", Fees: "platform:fees", FundAttrs: map[string]any{"company": "1"}}
}

// The (b-cold) workload's fund and fee accounts: one pair per client, so
// that no two clients share a hot account. (b) against (b-cold) is what
// the shared fund pool and fee account cost.
func coldFund(g int) string { return fmt.Sprintf("fund:cold%d:pool", g) }
func coldFees(g int) string { return fmt.Sprintf("platform:fees:cold%d", g) }

func (b bench) op(ctx context.Context, w, key, wal, prov string, g int) error {
	dbx := b.dbx
	switch w {
	case "a":
		_, err := b.bat.Post(ctx, ledger.Request{Key: key, Kind: "transfer",
			Postings: []ledger.Posting{{From: wal, To: prov, Amount: int64(1_00 + rand.IntN(50_00))}}})
		return err
	case "b":
		_, err := b.bat.Post(ctx, ledger.Request{Key: key, Kind: "redemption", Split: split(wal, prov)})
		return err
	case "b-cold":
		s := split(wal, prov)
		s.Fund, s.Fees = coldFund(g), coldFees(g)
		_, err := b.bat.Post(ctx, ledger.Request{Key: key, Kind: "redemption", Split: s})
		return err
	case "b-single":
		_, err := ledger.Post(ctx, dbx, ledger.Request{Key: key, Kind: "redemption", Split: split(wal, prov)})
		return err
	case "c", "c-single":
		hold, capture := b.bat.Hold, b.bat.Capture
		if w == "c-single" {
			hold = func(ctx context.Context, r ledger.HoldRequest) (ledger.Result, error) {
				return ledger.Hold(ctx, dbx, r)
			}
			capture = func(ctx context.Context, r ledger.CaptureRequest) (ledger.Result, error) {
				return ledger.Capture(ctx, dbx, r)
			}
		}
		s := split(wal, prov)
		h, err := hold(ctx, ledger.HoldRequest{ExpiresAt: time.Now().Add(time.Hour), Request: ledger.Request{
			Key: key, Kind: "booking", Postings: []ledger.Posting{{From: wal, To: prov, Amount: s.Gross, Category: "sport"}}}})
		if err != nil {
			return err
		}
		_, err = capture(ctx, ledger.CaptureRequest{Key: key + "-capture", HoldID: h.TxID, Split: s})
		return err
	case "b-batch1":
		body, err := ledger.Request{Key: key, Kind: "redemption", Split: split(wal, prov)}.JSON()
		if err != nil {
			return err
		}
		var res []byte
		err = dbx.QueryRowContext(ctx, `SELECT ledger_post_batch(`+pq.QuoteLiteral("["+string(body)+"]")+`::jsonb)`).Scan(&res)
		if err == nil && strings.Contains(string(res), `"code"`) {
			err = fmt.Errorf("refused: %s", res)
		}
		return err
	case "b-param", "b-binary":
		body, err := ledger.Request{Key: key, Kind: "redemption", Split: split(wal, prov)}.JSON()
		if err != nil {
			return err
		}
		target := dbx
		if w == "b-binary" {
			target = b.dbBin
		}
		_, err = target.ExecContext(ctx, `SELECT * FROM ledger_post($1::jsonb)`, string(body))
		return err
	case "b-tx":
		return db.WithTx(ctx, dbx, func(tx *sqlx.Tx) error {
			_, err := ledger.Post(ctx, tx, ledger.Request{Key: key, Kind: "redemption", Split: split(wal, prov)})
			return err
		})
	}
	return fmt.Errorf("unknown workload %s", w)
}

// timeVerify fills the ledger to want entries with redemptions written
// server-side (the fastest way to get there), seals the chain and times
// ledger.Verify.
func timeVerify(ctx context.Context, dbx *sqlx.DB, want int) (int64, time.Duration, error) {
	var have int
	if err := dbx.Get(&have, `SELECT count(*) FROM ledger_entries`); err != nil {
		return 0, 0, err
	}
	if missing := (want - have + 3) / 4; missing > 0 {
		fmt.Fprintf(os.Stderr, "filling %d redemptions\n", missing)
		const chunk = 1000
		for done := 0; done < missing; done += chunk {
			n := min(chunk, missing-done)
			_, err := dbx.Exec(`SELECT ledger_post_batch(jsonb_agg(jsonb_build_object('key', 'fill-' || $1::int + g, 'kind', 'redemption',
				'split', jsonb_build_object('policy', $2::text, 'from', 'employee:' || (g % 10000) || ':wallet', 'gross', 100 + g % 5000,
					'provider', 'provider:' || (g % 100) || ':payable', 'fund', 'fund:1:pool', 'fees', 'platform:fees'))))
				FROM generate_series(1, $3::int) g`, done, policy, n)
			if err != nil {
				return 0, 0, err
			}
		}
	}
	t0 := time.Now()
	if _, err := ledger.SealAll(ctx, dbx); err != nil {
		return 0, 0, err
	}
	fmt.Fprintf(os.Stderr, "sealed in %s\n", time.Since(t0).Round(time.Millisecond))
	rep, err := ledger.Verify(ctx, dbx)
	if err != nil {
		return 0, 0, err
	}
	if !rep.OK {
		rep.Write(os.Stderr)
		return 0, 0, fmt.Errorf("verify found violations")
	}
	return rep.Entries, rep.Took, nil
}

// timeEarmark gives a fund pool n contributions (the fund parts of n
// redemptions of a thousand companies over the last week, which the
// ledger groups into day lots: one per company, policy version, day and
// shard) and times earmarking 1 euro of it (a debit that takes the first
// lots and should not read the rest), then all the rest into an envelope
// that keeps lots: one ledger.Post that consumes every lot and moves each
// along. It returns how many lots the pool holds.
func timeEarmark(ctx context.Context, dbx *sqlx.DB, n int) (small, whole time.Duration, lots int, err error) {
	for _, s := range []ledger.AccountSpec{
		{Path: "fund:9:pool", Kind: ledger.Liability, Floor: &zero, Lots: true, Shards: 16},
		{Path: "fund:9:envelope:housing", Kind: ledger.Liability, Floor: &zero, Lots: true},
		{Path: "provider:9:payable", Kind: ledger.Liability, Floor: &zero},
	} {
		if _, err := ledger.CreateAccount(ctx, dbx, s); err != nil {
			return 0, 0, 0, err
		}
	}
	// a week back at most, and not into last year (ledger_check_effective)
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		return 0, 0, 0, err
	}
	now := time.Now().In(rome)
	days := min(6, now.YearDay()-1)
	const chunk = 1000
	for done := 0; done < n; done += chunk {
		_, err := dbx.ExecContext(ctx, `SELECT ledger_post_batch(jsonb_agg(jsonb_build_object('key', 'contrib-' || ($1::int + g),
			'kind', 'redemption', 'effective_at', now() - make_interval(days => ($3::int + g) % ($4::int + 1)),
			'split', jsonb_build_object('policy', $5::text, 'from', 'platform:stripe', 'gross', 1000 + g % 50,
				'provider', 'provider:9:payable', 'fund', 'fund:9:pool', 'fees', 'platform:fees',
				'fund_attrs', jsonb_build_object('company', (g % 1000)::text)))))
			FROM generate_series(1, $2::int) g`, done, min(chunk, n-done), done/chunk, days, policy)
		if err != nil {
			return 0, 0, 0, err
		}
	}
	if err := dbx.GetContext(ctx, &lots, `SELECT count(*) FROM ledger_lots l JOIN ledger_accounts a ON a.id = l.account_id
		WHERE a.path = 'fund:9:pool' AND l.live`); err != nil {
		return 0, 0, 0, err
	}
	t0 := time.Now()
	_, err = ledger.Post(ctx, dbx, ledger.Request{Key: "earmark-one", Kind: "earmark",
		Postings: []ledger.Posting{{From: "fund:9:pool", To: "fund:9:envelope:housing", Amount: 100}}})
	small = time.Since(t0)
	if err != nil {
		return 0, 0, 0, err
	}
	b, err := ledger.GetBalance(ctx, dbx, "fund:9:pool")
	if err != nil {
		return 0, 0, 0, err
	}
	t0 = time.Now()
	_, err = ledger.Post(ctx, dbx, ledger.Request{Key: "earmark-all", Kind: "earmark",
		Postings: []ledger.Posting{{From: "fund:9:pool", To: "fund:9:envelope:housing", Amount: b.Available}}})
	return small, time.Since(t0), lots, err
}
