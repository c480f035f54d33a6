// Command redemption-bench measures booking and validation through the
// HTTP API (make bench-redemption): N concurrent signed-in employees book
// a service and its provider validates the voucher, over 10,000 wallets,
// next to the ledger's own booking lifecycle (a hold and a captured split,
// called directly) measured in the same run. The app runs as a child
// process, so the load generator's CPU (this process) is reported apart
// from the server's and the rest of the machine (PostgreSQL).
package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	_ "net/http/pprof" // the child serves profiles when REDEMPTION_BENCH_PPROF is set
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/app"
	"github.com/reciproca/reciproca/internal/config"
	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/db/dbtest"
	"github.com/reciproca/reciproca/internal/identity"
	"github.com/reciproca/reciproca/internal/ledger"
	"github.com/reciproca/reciproca/internal/redemption"
)

func fail(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "redemption-bench:", err)
		os.Exit(1)
	}
}

func main() {
	if os.Getenv("REDEMPTION_BENCH_SERVER") == "1" {
		serve()
		return
	}
	server := flag.String("server", os.Getenv("TEST_DATABASE_URL"), "PostgreSQL server (admin URL)")
	wallets := flag.Int("wallets", 10_000, "employees with a funded wallet")
	providers := flag.Int("providers", 20, "providers, one service each")
	dur := flag.Duration("d", 10*time.Second, "duration of each run")
	clientsFlag := flag.String("clients", "8,32,64", "client counts")
	rounds := flag.Int("rounds", 3, "rounds, each running every client count (interleaved); medians at the end")
	pool := flag.Int("pool", 0, "database connections of the app server and of the ledger's (c) clients alike (0: 40 and 80, more than any client count)")
	flag.Parse()
	if *server == "" {
		fail(fmt.Errorf("no server: set TEST_DATABASE_URL or -server"))
	}
	var clients []int
	for _, s := range strings.Split(*clientsFlag, ",") {
		n, err := strconv.Atoi(s)
		fail(err)
		clients = append(clients, n)
	}
	ctx := context.Background()
	name := fmt.Sprintf("redemption_bench_%d", os.Getpid())
	admin, err := db.Open(ctx, *server, 2)
	fail(err)
	_, err = admin.Exec(`CREATE DATABASE ` + name)
	fail(err)
	defer admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
	owner := dbtest.URLFor(*server, name)
	dbx, err := db.Open(ctx, owner, 80)
	fail(err)
	fail(db.Migrate(ctx, dbx.DB))

	// (c)'s clients share a pool of their own, as the server's requests do
	lx := dbx
	if *pool > 0 {
		lx, err = db.Open(ctx, owner, *pool)
		fail(err)
	}
	env := serverEnv(owner, cmp.Or(*pool, 40))
	cfg, err := config.FromLookup(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	fail(err)
	start := time.Now()
	w, err := setup(ctx, dbx, cfg, *wallets, *providers)
	fail(err)
	w.admin, w.dbname = admin, name
	fmt.Fprintf(os.Stderr, "setup: %d wallets, %d providers, tokens in %s\n", *wallets, *providers, time.Since(start).Round(time.Millisecond))

	child, err := startServer(env, cfg.BaseURL)
	fail(err)
	defer child.Process.Kill()

	fmt.Printf("%d wallets, %d providers; %s per run; GOMAXPROCS %d on %d of the machine's %d CPUs; database connections: server %s, (c) %d.\n\n",
		*wallets, *providers, *dur, runtime.GOMAXPROCS(0), runtime.NumCPU(), machineCores(), env["DB_MAX_CONNS"], lx.Stats().MaxOpenConnections)
	header := "| clients | HTTP lifecycles/s | book p50/p99 | validate p50/p99 | ledger (c) lifecycles/s | (c) p50/p99 | HTTP/(c) | generator CPU | server CPU | PostgreSQL CPU | rest of machine | CPU ms per HTTP lifecycle: generator + server + PostgreSQL | CPU ms per (c) lifecycle: client + PostgreSQL | load avg |\n" +
		"|---:|---:|---|---|---:|---|---:|---:|---:|---:|---:|---|---|---:|"
	rows := map[int][]row{}
	for r := 1; r <= *rounds; r++ {
		fmt.Printf("Round %d:\n\n%s\n", r, header)
		for _, n := range clients {
			h := w.httpRun(ctx, cfg.BaseURL, n, *dur, child.Process.Pid)
			c := w.ledgerRun(ctx, lx, n, *dur)
			x := row{clients: n, http: h, c: c, load: loadAvg()}
			rows[n] = append(rows[n], x)
			fmt.Println(x)
			fmt.Fprintf(os.Stderr, "round %d, %d clients: HTTP %.0f/s (%d errors), ledger %.0f/s\n", r, n, h.rate, h.errors, c.rate)
		}
		fmt.Println()
	}
	if *rounds > 1 {
		fmt.Printf("Medians of the %d rounds (each column on its own, HTTP/(c) the median of the rounds' ratios; latencies from the round with that ratio):\n\n%s\n", *rounds, header)
		for _, n := range clients {
			fmt.Println(median(rows[n]))
		}
		fmt.Println()
	}
	fmt.Println("CPU shares are of the whole machine (all cores) during the HTTP run; \"rest\" is PostgreSQL and anything else running; load avg is the 1-minute load average at the end of the row.")
}

// row is one client count's measurement in one round.
type row struct {
	clients  int
	http, c  result
	load     float64
	medRatio float64 // in a row of medians: the median of the rounds' HTTP/(c)
}

func (x row) ratio() float64 {
	if x.medRatio > 0 {
		return x.medRatio
	}
	return x.http.rate / x.c.rate
}

func (x row) String() string {
	return fmt.Sprintf("| %d | %.0f | %s | %s | %.0f | %s | %.0f%% | %.0f%% | %.0f%% | %.0f%% | %.0f%% | %.1f + %.1f + %.1f = %.1f | %.1f + %.1f = %.1f | %.1f |",
		x.clients, x.http.rate, lat(x.http.book), lat(x.http.validate), x.c.rate, lat(x.c.book), 100*x.ratio(), 100*x.http.genCPU,
		100*x.http.serverCPU, 100*x.http.pgCPU, 100*x.http.restCPU,
		x.http.genMS, x.http.serverMS, x.http.pgMS, x.http.genMS+x.http.serverMS+x.http.pgMS,
		x.c.genMS, x.c.pgMS, x.c.genMS+x.c.pgMS, x.load)
}

// median is the row of medians of rs, column by column; the latencies are
// those of the round whose HTTP/(c) is the median.
func median(rs []row) row {
	med := func(f func(row) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	byRatio := slices.Clone(rs)
	slices.SortFunc(byRatio, func(a, b row) int { return cmp.Compare(a.ratio(), b.ratio()) })
	m := byRatio[len(byRatio)/2]
	m.http.rate, m.c.rate = med(func(r row) float64 { return r.http.rate }), med(func(r row) float64 { return r.c.rate })
	m.http.genCPU = med(func(r row) float64 { return r.http.genCPU })
	m.http.serverCPU = med(func(r row) float64 { return r.http.serverCPU })
	m.http.restCPU = med(func(r row) float64 { return r.http.restCPU })
	m.http.pgCPU = med(func(r row) float64 { return r.http.pgCPU })
	m.http.genMS = med(func(r row) float64 { return r.http.genMS })
	m.http.serverMS = med(func(r row) float64 { return r.http.serverMS })
	m.http.pgMS = med(func(r row) float64 { return r.http.pgMS })
	m.c.genMS = med(func(r row) float64 { return r.c.genMS })
	m.c.pgMS = med(func(r row) float64 { return r.c.pgMS })
	m.load = med(func(r row) float64 { return r.load })
	m.medRatio = med(row.ratio)
	return m
}

// loadAvg is the machine's 1-minute load average.
func loadAvg() float64 {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

// serverEnv is the child's environment: the app as `reciproca serve`
// runs it, logging in as the restricted role, without the worker, with a
// pool of conns database connections.
func serverEnv(owner string, conns int) map[string]string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	fail(err)
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	key := identity.GenerateKey()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	fail(err)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	return map[string]string{"APP_ENV": "test", "DATABASE_URL": dbtest.AppURL(owner), "MIGRATE_DATABASE_URL": owner,
		"HOST": "127.0.0.1", "PORT": strconv.Itoa(port), "BASE_URL": base, "RUN_WORKER": "false", "LOG_LEVEL": "error",
		"DB_MAX_CONNS": strconv.Itoa(conns), "JWT_SIGNING_KEY": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"ACCESS_TOKEN_TTL": "2h"}
}

func startServer(env map[string]string, base string) (*exec.Cmd, error) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "REDEMPTION_BENCH_SERVER=1")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stderr = nil // the app logs every request; the table is what counts
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	for range 200 {
		if res, err := http.Get(base + "/healthz"); err == nil {
			res.Body.Close()
			return cmd, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Kill()
	return nil, fmt.Errorf("the app did not start")
}

// serve is the child: the app on the configured address until killed.
func serve() {
	if addr := os.Getenv("REDEMPTION_BENCH_PPROF"); addr != "" { // e.g. 127.0.0.1:6060: profile the server
		go func() { fmt.Fprintln(os.Stderr, http.ListenAndServe(addr, nil)) }()
	}
	cfg, err := config.FromEnv()
	fail(err)
	a, err := app.New(context.Background(), cfg)
	fail(err)
	fail(a.Serve(context.Background()))
}

type world struct {
	admin     *sqlx.DB // the server's administrative connection
	dbname    string   // the benchmark's database
	employees []string // access tokens
	staff     []string // a provider's staff token, by provider
	offerings []uuid.UUID
	lwallets  []string // the ledger run's own wallets
	payables  []string
	seq       atomic.Int64
}

func setup(ctx context.Context, dbx *sqlx.DB, cfg config.Config, wallets, providers int) (*world, error) {
	w := &world{}
	if _, err := ledger.CreatePolicy(ctx, dbx, ledger.SplitPolicy{Name: redemption.DefaultPolicy, ValidFrom: time.Unix(0, 0),
		FundBps: 1000, FeeBps: 500, RemainderTo: ledger.ToProvider}); err != nil {
		return nil, err
	}
	var company, fundOrg uuid.UUID
	if err := dbx.Get(&company, `INSERT INTO organisations (kind, name) VALUES ('company', 'Bench S.p.A.') RETURNING id`); err != nil {
		return nil, err
	}
	if err := dbx.Get(&fundOrg, `INSERT INTO organisations (kind, name) VALUES ('fund', 'Fondo Bench') RETURNING id`); err != nil {
		return nil, err
	}
	var emps []uuid.UUID
	if err := dbx.Select(&emps, `WITH u AS (INSERT INTO users (organisation_id, email, name, status)
			SELECT $1, 'emp' || g || '@bench.test', 'Dipendente ' || g, 'active' FROM generate_series(1, $2) g RETURNING id)
		INSERT INTO user_roles (user_id, role) SELECT id, 'employee' FROM u RETURNING user_id`, company, wallets); err != nil {
		return nil, err
	}
	zero := int64(0)
	for _, spec := range []ledger.AccountSpec{{Path: "platform:bank", Kind: ledger.Asset},
		{Path: "fund:bench:pool", Kind: ledger.Liability, Floor: &zero, Lots: true, Shards: 16},
		{Path: "platform:fees", Kind: ledger.Revenue, Shards: 16}} {
		if _, err := ledger.CreateAccount(ctx, dbx, spec); err != nil {
			return nil, err
		}
	}
	// wallets for the HTTP run and as many for the ledger run, each with a
	// lot large enough never to run out
	for i := range 2 * wallets {
		path := fmt.Sprintf("bench:%d:wallet", i)
		if i < wallets {
			path = redemption.WalletPath(emps[i])
		} else {
			w.lwallets = append(w.lwallets, path)
		}
		if _, err := ledger.CreateAccount(ctx, dbx, ledger.AccountSpec{Path: path, Kind: ledger.Liability, Floor: &zero, Lots: true}); err != nil {
			return nil, err
		}
	}
	var reqs []ledger.Request
	all := append(slices.Clone(w.lwallets), func() []string {
		var out []string
		for _, e := range emps {
			out = append(out, redemption.WalletPath(e))
		}
		return out
	}()...)
	for i, path := range all {
		reqs = append(reqs, ledger.Request{Key: "fund-" + path, Kind: "allocation", Postings: []ledger.Posting{{From: "platform:bank",
			To: path, Amount: 1_000_000_00, Lot: &ledger.LotSpec{Attrs: map[string]any{"company": company.String()}}}}})
		if len(reqs) == 500 || i == len(all)-1 {
			if _, err := ledger.PostBatch(ctx, dbx, reqs); err != nil {
				return nil, err
			}
			reqs = reqs[:0]
		}
	}
	ids := identity.New(dbx, mustIdentityConfig(cfg))
	for p := range providers {
		var org uuid.UUID
		if err := dbx.Get(&org, `INSERT INTO organisations (kind, name) VALUES ('provider', $1) RETURNING id`, fmt.Sprintf("Erogatore %d", p)); err != nil {
			return nil, err
		}
		vat := fmt.Sprintf("%011d", 10_000_000+p)
		if _, err := dbx.Exec(`INSERT INTO providers (organisation_id, legal_name, legal_form, fiscal_code, place_code, status, email)
			VALUES ($1, $2, 'association', $3, '097042', 'approved', '')`, org, fmt.Sprintf("Erogatore %d", p), vat); err != nil {
			return nil, err
		}
		var off uuid.UUID
		if err := dbx.Get(&off, `INSERT INTO offerings (provider_id, title, category, price_cents, unit, place_code, lat, lon)
			VALUES ($1, 'Ginnastica dolce', 'sport', 1250, 'session', '097042', 45.85, 9.39) RETURNING id`, org); err != nil {
			return nil, err
		}
		var staff uuid.UUID
		if err := dbx.Get(&staff, `WITH u AS (INSERT INTO users (organisation_id, email, name, status)
				VALUES ($1, $2, 'Staff', 'active') RETURNING id)
			INSERT INTO user_roles (user_id, role) SELECT id, 'provider_staff' FROM u RETURNING user_id`, org, fmt.Sprintf("staff%d@bench.test", p)); err != nil {
			return nil, err
		}
		tok, err := ids.TokensFor(ctx, staff)
		if err != nil {
			return nil, err
		}
		w.staff = append(w.staff, tok.AccessToken)
		w.offerings = append(w.offerings, off)
		payable := fmt.Sprintf("bench:%d:payable", p)
		if _, err := ledger.CreateAccount(ctx, dbx, ledger.AccountSpec{Path: payable, Kind: ledger.Liability, Floor: &zero}); err != nil {
			return nil, err
		}
		w.payables = append(w.payables, payable)
	}
	w.employees = make([]string, len(emps))
	var wg sync.WaitGroup
	var firstErr error
	var mu sync.Mutex
	for part := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := part; i < len(emps); i += 8 {
				tok, err := ids.TokensFor(ctx, emps[i])
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
				w.employees[i] = tok.AccessToken
			}
		}()
	}
	wg.Wait()
	_ = fundOrg
	return w, firstErr
}

func mustIdentityConfig(cfg config.Config) identity.Config {
	c, err := identity.ConfigFrom(cfg)
	fail(err)
	return c
}

type result struct {
	rate                       float64
	book, validate             []time.Duration
	errors                     int64
	genCPU, serverCPU, restCPU float64
	pgCPU                      float64 // the backends serving the benchmark's database
	genMS, serverMS, pgMS      float64 // CPU milliseconds per lifecycle
}

var client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}, Timeout: 30 * time.Second}

func call(method, url, token string, body any, out any, headers ...string) error {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, url, res.StatusCode, raw)
	}
	return json.Unmarshal(raw, out)
}

// httpRun: each client books one unit of a random provider's service as a
// random employee, then that provider's staff validates the voucher.
func (w *world) httpRun(ctx context.Context, base string, n int, d time.Duration, serverPid int) result {
	var mu sync.Mutex
	var res result
	var done, errs atomic.Int64
	stop := time.Now().Add(d)
	gen0, srv0, all0, pg0 := selfCPU(), procCPU(serverPid), machineCPU(), w.backendsCPU(ctx)
	t0 := time.Now()
	var wg sync.WaitGroup
	for c := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), uint64(time.Now().UnixNano())))
			var books, vals []time.Duration
			for time.Now().Before(stop) {
				p := rng.IntN(len(w.offerings))
				emp := w.employees[rng.IntN(len(w.employees))]
				var v struct {
					Code string `json:"code"`
				}
				s := time.Now()
				err := call("POST", base+"/api/v1/vouchers", emp, map[string]any{"offering_id": w.offerings[p], "quantity": 1}, &v,
					"Idempotency-Key", fmt.Sprintf("b-%d", w.seq.Add(1)))
				books = append(books, time.Since(s))
				if err == nil {
					s = time.Now()
					err = call("POST", base+"/api/v1/voucher-validations", w.staff[p], map[string]any{"code": v.Code}, &v)
					vals = append(vals, time.Since(s))
				}
				if err != nil {
					if errs.Add(1) <= 3 {
						fmt.Fprintln(os.Stderr, err)
					}
					continue
				}
				done.Add(1)
			}
			mu.Lock()
			res.book = append(res.book, books...)
			res.validate = append(res.validate, vals...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	el := time.Since(t0).Seconds()
	cores := float64(machineCores())
	gen, srv, all, pg := selfCPU()-gen0, procCPU(serverPid)-srv0, machineCPU()-all0, w.backendsCPU(ctx).since(pg0)
	res.rate, res.errors = float64(done.Load())/el, errs.Load()
	res.genCPU, res.serverCPU, res.pgCPU = gen/(el*cores), srv/(el*cores), pg/(el*cores)
	res.restCPU = max(all-gen-srv-pg, 0) / (el * cores)
	if n := float64(done.Load()); n > 0 {
		res.genMS, res.serverMS, res.pgMS = 1000*gen/n, 1000*srv/n, 1000*pg/n
	}
	return res
}

// ledgerRun is the ledger's own lifecycle (c): a hold and a captured
// split, called directly on the same database.
func (w *world) ledgerRun(ctx context.Context, dbx *sqlx.DB, n int, d time.Duration) result {
	var mu sync.Mutex
	var res result
	var done atomic.Int64
	stop := time.Now().Add(d)
	gen0, pg0 := selfCPU(), w.backendsCPU(ctx)
	t0 := time.Now()
	var wg sync.WaitGroup
	for c := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 7))
			var lats []time.Duration
			for time.Now().Before(stop) {
				wal := w.lwallets[rng.IntN(len(w.lwallets))]
				prov := w.payables[rng.IntN(len(w.payables))]
				key := fmt.Sprintf("c-%d", w.seq.Add(1))
				s := time.Now()
				h, err := ledger.Hold(ctx, dbx, ledger.HoldRequest{ExpiresAt: time.Now().Add(time.Hour), Request: ledger.Request{
					Key: key, Kind: "booking", Postings: []ledger.Posting{{From: wal, To: prov, Amount: 12_50, Category: "sport"}}}})
				if err == nil {
					_, err = ledger.Capture(ctx, dbx, ledger.CaptureRequest{Key: key + "-capture", HoldID: h.TxID,
						Split: &ledger.Split{Policy: redemption.DefaultPolicy, From: wal, Gross: 12_50, Category: "sport", Provider: prov,
							Fund: "fund:bench:pool", Fees: "platform:fees", FundAttrs: map[string]any{"company": "bench"}}})
				}
				lats = append(lats, time.Since(s))
				if err != nil {
					fmt.Fprintln(os.Stderr, "ledger:", err)
					continue
				}
				done.Add(1)
			}
			mu.Lock()
			res.book = append(res.book, lats...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.rate = float64(done.Load()) / time.Since(t0).Seconds()
	if n := float64(done.Load()); n > 0 {
		res.genMS, res.pgMS = 1000*(selfCPU()-gen0)/n, 1000*w.backendsCPU(ctx).since(pg0)/n
	}
	return res
}

func lat(ds []time.Duration) string {
	if len(ds) == 0 {
		return "-"
	}
	slices.Sort(ds)
	p := func(q float64) float64 { return float64(ds[int(q*float64(len(ds)-1))].Microseconds()) / 1000 }
	return fmt.Sprintf("%.1f / %.1f ms", p(0.5), p(0.99))
}

// cpuByPid is CPU seconds by process.
type cpuByPid map[int]float64

// backendsCPU is the CPU seconds of each PostgreSQL backend connected to
// the benchmark's database now.
func (w *world) backendsCPU(ctx context.Context) cpuByPid {
	var pids []int
	_ = w.admin.SelectContext(ctx, &pids, `SELECT pid FROM pg_stat_activity WHERE datname = $1`, w.dbname)
	out := cpuByPid{}
	for _, p := range pids {
		out[p] = procCPU(p)
	}
	return out
}

// since is the CPU the backends of now used after before (a backend that
// connected in between counts whole; one that left in between is lost,
// which the pool's long idle time makes rare).
func (now cpuByPid) since(before cpuByPid) float64 {
	var sum float64
	for p, c := range now {
		sum += c - before[p]
	}
	return sum
}

// selfCPU is this process's CPU seconds (user + system).
func selfCPU() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return tv(ru.Utime) + tv(ru.Stime)
}

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }

// procCPU is a process's CPU seconds from /proc.
func procCPU(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ
}

// machineCPU is the whole machine's busy CPU seconds from /proc/stat.
// machineCores is how many CPUs the machine has (runtime.NumCPU counts
// only those this process may run on: one, under `make
// bench-redemption`'s second run).
func machineCores() int {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return runtime.NumCPU()
	}
	n := 0
	for _, l := range strings.Split(string(b), "\n") {
		if len(l) > 3 && strings.HasPrefix(l, "cpu") && l[3] >= '0' && l[3] <= '9' {
			n++
		}
	}
	return max(n, 1)
}

func machineCPU() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	f := strings.Fields(strings.SplitN(string(b), "\n", 2)[0])[1:]
	var busy float64
	for i, s := range f {
		v, _ := strconv.ParseFloat(s, 64)
		if i != 3 && i != 4 { // idle, iowait
			busy += v
		}
	}
	return busy / 100
}
