package e2e

import (
	"context"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
	"github.com/reciproca/reciproca/internal/seed"
	"github.com/reciproca/reciproca/web"
)

// Each demo role, signed in as they would be (the fund roles and the
// platform admin with their second factor done), starts from their home
// page on a 390 px phone, in Italian, and follows every link to a page of
// the app: no page scrolls sideways, shows English or a raw code, has a
// serious or critical axe violation, or is a link to an error.
func TestEveryPageOfEachDemoRole(t *testing.T) {
	a := apptest.Start(t)
	if _, err := seed.Run(context.Background(), a.DB); err != nil {
		t.Fatal(err)
	}
	k := identitytest.New(t, a.DB, a.Identity)
	base := a.URL()
	// People's names and addresses are data, whatever their language
	// ("Paola Admin", staff@...).
	var people []string
	if err := a.DB.Select(&people, `SELECT name FROM users`); err != nil {
		t.Fatal(err)
	}
	for _, email := range []string{
		"giulia.ferrari@officinebrianza.example", // employee
		"hr@officinebrianza.example",             // company admin
		"staff@germoglio.example",                // provider staff
		"gestore@fondobrianza.example",           // fund manager
		"approvatore@fondobrianza.example",       // fund approver
		"operatore@fondobrianza.example",         // case worker
		"admin@reciproca.example",                // platform admin
	} {
		u := demoUser(t, a.DB, email)
		t.Run(string(u.Roles[0]), func(t *testing.T) {
			// A browser each: the roles are crawled side by side, as many
			// at once as there are processors.
			t.Parallel()
			ctx := Browser(t, 180*time.Second)
			if n := crawl(t, ctx, k, base, u, people); n < 3 {
				t.Errorf("%s reached only %d pages", email, n)
			}
		})
	}
}

// crawlMaxPages bounds one role's crawl: the demo roles reach fewer pages
// of different kinds than this.
const crawlMaxPages = 60

// crawl visits every page u reaches from their home page by links,
// one page per path pattern, checks each and returns how many it checked.
func crawl(t *testing.T, ctx context.Context, k *identitytest.Kit, base string, u *identitytest.User, people []string) int {
	// The browser and the client share one session: the fund's purpose
	// below is the session's.
	ck := k.SessionCookie(u)
	client := crawlClient(base, ck)
	if err := chromedp.Run(ctx, withSession(base, ck), setLang(base, "it"), chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatal(err)
	}
	if u.Org.Kind == auth.OrgFund {
		// The fund's people first say why they open cases this session,
		// as they do after signing in; then the case pages open.
		if err := chromedp.Run(ctx, chromedp.Navigate(base+"/fondo/scopo"), chromedp.WaitVisible("#purpose-form", chromedp.ByID),
			checkA11yAt(t, phoneWidths), chromedp.Click("#purpose-submit", chromedp.ByID), chromedp.WaitNotPresent("#purpose-form", chromedp.ByID),
			checkA11yAt(t, phoneWidths)); err != nil {
			t.Fatal(err)
		}
	}
	type link struct{ to, from string } // a page to open, and the page linking to it
	seen := map[string]bool{pathPattern("/home"): true}
	queue := []link{{to: base + "/home"}}
	checked := 0
	for len(queue) > 0 && checked < crawlMaxPages {
		next, from := queue[0].to, queue[0].from
		queue = queue[1:]
		if !isPage(t, client, next, from) {
			continue
		}
		var text string
		var links, small, squeezed, tiny []string
		err := chromedp.Run(ctx,
			chromedp.Navigate(next),
			chromedp.WaitVisible("main", chromedp.ByQuery),
			checkA11yAt(t, phoneWidths),
			chromedp.Text("body", &text, chromedp.ByQuery),
			chromedp.Evaluate(`Array.from(document.querySelectorAll("a[href]:not([download])"), a => a.href)`, &links),
			chromedp.Evaluate(smallControls, &small),
			chromedp.Evaluate(squeezedText, &squeezed),
			chromedp.Evaluate(tinyText, &tiny),
			screenshot(t, "crawl-"+string(u.Roles[0])+"-"+strings.NewReplacer("/", "_", "?", "_", "&", "_", "=", "-").Replace(strings.TrimPrefix(next, base))),
		)
		if err != nil {
			t.Fatalf("%s: %v", next, err)
		}
		checked++
		for _, c := range small {
			t.Errorf("%s: %s is less than 44 px tall, hard to tap", strings.TrimPrefix(next, base), c)
		}
		for _, c := range squeezed {
			t.Errorf("%s: %s is squeezed into a column a few letters wide", strings.TrimPrefix(next, base), c)
		}
		for _, c := range tiny {
			t.Errorf("%s: %s is drawn less than 11 px tall, too small to read", strings.TrimPrefix(next, base), c)
		}
		for _, bad := range notItalian(withoutPeople(text, people)) {
			t.Errorf("%s in Italian shows %q", strings.TrimPrefix(next, base), bad)
		}
		for _, l := range links {
			l, _, _ = strings.Cut(l, "#")
			if plain, err := url.QueryUnescape(l); err == nil && rawCodeInLink.MatchString(plain) {
				t.Errorf("%s links to %s: a value written as Go prints it", strings.TrimPrefix(next, base), strings.TrimPrefix(plain, base))
			}
			if !strings.HasPrefix(l, base+"/") || skipLink(strings.TrimPrefix(l, base)) {
				continue
			}
			p := pathPattern(strings.TrimPrefix(l, base))
			if !seen[p] {
				seen[p] = true
				queue = append(queue, link{to: l, from: next})
			}
		}
	}
	if len(queue) > 0 {
		t.Errorf("%s: more than %d kinds of page; the crawl stopped before %v", u.Email, crawlMaxPages, queue)
	}
	t.Logf("%s: %d pages checked", u.Email, checked)
	return checked
}

// demoUser is the seeded demo account of email, as the test kit's user.
func demoUser(t *testing.T, dbx interface {
	Get(dest any, query string, args ...any) error
}, email string) *identitytest.User {
	var row struct {
		ID      uuid.UUID    `db:"id"`
		OrgID   uuid.UUID    `db:"organisation_id"`
		OrgKind auth.OrgKind `db:"kind"`
		Name    string       `db:"name"`
		Role    auth.Role    `db:"role"`
	}
	err := dbx.Get(&row, `SELECT u.id, u.organisation_id, o.kind, u.name, r.role FROM users u
		JOIN organisations o ON o.id = u.organisation_id JOIN user_roles r ON r.user_id = u.id WHERE u.email = $1`, email)
	if err != nil {
		t.Fatalf("demo user %s: %v", email, err)
	}
	return &identitytest.User{ID: row.ID, Org: identitytest.Org{ID: row.OrgID, Kind: row.OrgKind}, Email: email, Name: row.Name,
		Roles: []auth.Role{row.Role}}
}

// crawlClient is an HTTP client with u's session, to learn what a link
// leads to before the browser opens it (a file download is no page).
func crawlClient(base string, session *http.Cookie) *http.Client {
	jar, _ := cookiejar.New(nil)
	bu, _ := url.Parse(base)
	jar.SetCookies(bu, []*http.Cookie{session, {Name: "lang", Value: "it", Path: "/"}})
	return &http.Client{Jar: jar, Timeout: 30 * time.Second}
}

// isPage reports whether link (found on page from) leads to an HTML page,
// and fails the test when it leads to an error: a page links only to what
// its reader may open.
func isPage(t *testing.T, client *http.Client, link, from string) bool {
	res, err := client.Get(link)
	if err != nil {
		t.Errorf("%s: %v", link, err)
		return false
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("%s links to %s, which answers %d", from, link, res.StatusCode)
		return false
	}
	ct := res.Header.Get("Content-Type")
	return strings.HasPrefix(ct, "text/html") && !strings.Contains(res.Header.Get("Content-Disposition"), "attachment")
}

// skipLink says which links the crawl leaves alone: the language switch,
// assets, and the development pages.
func skipLink(path string) bool {
	for _, p := range []string{"/lang?", "/static/", "/dev/", "/logout"} {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

var (
	uuidRE   = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	numberRE = regexp.MustCompile(`^[0-9][0-9-]*$`)
)

// pathPattern is a link with its ids and numbers blanked and its query
// reduced to the names of its parameters: the crawl opens one page of each
// kind (one offering, one case...).
func pathPattern(link string) string {
	path, query, _ := strings.Cut(link, "?")
	segs := strings.Split(uuidRE.ReplaceAllString(path, ":id"), "/")
	for i, s := range segs {
		if numberRE.MatchString(s) {
			segs[i] = ":n"
		}
	}
	q, _ := url.ParseQuery(query)
	var keys []string
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(segs, "/") + "?" + strings.Join(keys, "&")
}

// englishWords are words an Italian page never shows: English the
// translation missed, or a status code shown as it is stored.
var englishWords = []string{"the", "and", "your", "with", "Save", "Cancel", "Delete", "Edit", "Search", "Sign in", "Sign out",
	"Submit", "pending", "approved", "rejected", "active", "closed", "paid", "draft", "Status", "Settings", "Welcome", "Back",
	"Next", "Download", "Upload", "Invite", "Users", "Company", "Provider", "Fund", "Approve", "Reject", "Create", "Add",
	"Remove", "Send", "Open", "Close", "Name", "Amount", "Total", "Balance", "Payment", "Bookings", "Vouchers", "Wallet",
	"Plans", "Employees", "Dashboard", "Details", "View", "Top up", "Refund", "Dispute", "true", "false", "nil"}

var (
	englishRE = regexp.MustCompile(`\b(` + strings.Join(englishWords, "|") + `)\b`)
	// rawCodeRE finds codes shown as stored (login_succeeded), empty
	// JSON, and what Go's templates and fmt print for a mistake.
	rawCodeRE = regexp.MustCompile(`\b[a-z]+(_[a-z0-9]+)+\b|\{\}|map\[|%!|<no value>|\[\]`)
)

// notItalian returns what an Italian page's text shows that it should
// not: English words and raw codes.
func notItalian(text string) []string {
	var out []string
	found := append(englishRE.FindAllString(text, -1), rawCodeRE.FindAllString(text, -1)...)
	for _, w := range wordRE.FindAllString(text, -1) {
		if catalogueEnglish()[strings.ToLower(w)] {
			found = append(found, w)
		}
	}
	for _, m := range found {
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}

// smallControls lists the form fields and buttons shown less than 44 px
// tall (a phone's tap target), by id or name.
const smallControls = `Array.from(document.querySelectorAll("main input:not([type=hidden]):not([type=checkbox]):not([type=radio]), main select, main textarea, main button:not(.link)"))
  .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 && r.height < 43.5; })
  .map(e => e.tagName.toLowerCase() + "#" + (e.id || e.name || e.textContent.trim()))`

// squeezedText lists the text squeezed into a column too narrow to read,
// a few letters a line (a grid whose label column took the whole width).
const squeezedText = `Array.from(document.querySelectorAll("main dd, main dt, main td, main th, main p, main li, main a, main h1, main h2, main h3"))
  .filter(e => { const r = e.getBoundingClientRect(); return e.textContent.trim().length >= 12 && r.width > 0 && r.width < 60 && r.height > 80; })
  .map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + " " + JSON.stringify(e.textContent.trim().slice(0, 40)))`

// tinyText lists the text of drawings (a chart's labels and values)
// scaled down with the drawing to less than 11 px: a chart drawn for a
// laptop's width and shrunk to a phone's.
const tinyText = `Array.from(document.querySelectorAll("main svg text"))
  .filter(e => { const r = e.getBoundingClientRect(); return r.height > 0 && r.height < 11; })
  .map(e => (e.closest("svg").id || "svg") + " " + JSON.stringify(e.textContent.trim().slice(0, 40)))`

// rawCodeInLink finds a time as Go prints it (2026-12-01 00:00:00 +0100
// CET) in a link: the page it leads to cannot read it back.
var rawCodeInLink = regexp.MustCompile(`\d{2}:\d{2}:\d{2} [+-]\d{4}`)

var emailRE = regexp.MustCompile(`\S+@\S+`)

// withoutPeople is text without e-mail addresses and people's names.
func withoutPeople(text string, names []string) string {
	text = emailRE.ReplaceAllString(text, "")
	for _, n := range names {
		text = strings.ReplaceAll(text, n, "")
	}
	return text
}

var wordRE = regexp.MustCompile(`[\p{L}]{4,}`)

// catalogueEnglish are the words of four letters or more that the
// English messages use and the Italian ones never do: on an Italian page
// they are a message left untranslated (or English in the data).
var catalogueEnglish = sync.OnceValue(func() map[string]bool {
	words := func(lang string) map[string]bool {
		out := map[string]bool{}
		files, _ := fs.Glob(web.FS, "i18n/"+lang+"/*.json")
		for _, f := range files {
			raw, err := fs.ReadFile(web.FS, f)
			if err != nil {
				panic(err)
			}
			var msgs map[string]string
			if err := json.Unmarshal(raw, &msgs); err != nil {
				panic(err)
			}
			for _, m := range msgs {
				for _, w := range wordRE.FindAllString(m, -1) {
					out[strings.ToLower(w)] = true
				}
			}
		}
		return out
	}
	en, it := words("en"), words("it")
	for w := range it {
		delete(en, w)
	}
	return en
})

// The crawl's checks catch what they are for and let Italian through.
func TestCrawlChecks(t *testing.T) {
	for text, want := range map[string][]string{
		"Accesso riuscito il 01/12/2026 alle 18:00 · Stato: Attiva":  nil,
		"Ricarica di 1.000,00 € · Email: hr@officinebrianza.example": nil,
		"login_succeeded {} da 127.0.0.1":                            {"login_succeeded", "{}"},
		"Stato: active · Save the changes":                           {"active", "Save", "the", "changes"},
		"funding.kind.allocation_hold 12,00 €":                       {"allocation_hold", "kind", "allocation"},
		"%!s(MISSING) <no value>":                                    {"%!", "<no value>", "MISSING"},
	} {
		if got := notItalian(text); !slices.Equal(got, want) && (len(got) > 0 || len(want) > 0) {
			t.Errorf("notItalian(%q) = %q, want %q", text, got, want)
		}
	}
	if plain, _ := url.QueryUnescape("/erogatore/prenotazioni?giorno=2026-12-01%2000%3A00%3A00%20%2B0100%20CET"); !rawCodeInLink.MatchString(plain) ||
		rawCodeInLink.MatchString("/erogatore/prenotazioni?giorno=2026-12-01") {
		t.Errorf("rawCodeInLink misjudges a day link")
	}
	for link, want := range map[string]string{
		"/catalogo/0d000000-0000-4000-8000-0000000000a1": "/catalogo/:id?",
		"/catalogo?q=yoga&vicino=Lecco":                  "/catalogo?q&vicino",
		"/catalogo?vicino=Monza&q=corsi":                 "/catalogo?q&vicino",
		"/fondo/pagamenti/12/righe":                      "/fondo/pagamenti/:n/righe?",
	} {
		if got := pathPattern(link); got != want {
			t.Errorf("pathPattern(%q) = %q, want %q", link, got, want)
		}
	}
}
