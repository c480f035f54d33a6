package identity_test

import (
	"strings"
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/identity/identitytest"
)

// waitImport follows an import's page until it stops running.
func waitImport(t *testing.T, b *identitytest.Browser, loc string) string {
	t.Helper()
	for i := 0; i < 200; i++ {
		_, page := b.Get(loc)
		if !strings.Contains(page, "import-progress") {
			return page
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the import never finished")
	return ""
}

// The file an Italian office saves from Excel — semicolons, Windows-1252,
// Italian headings in capitals, first name and surname apart, Italian role
// names, an extra column — imports, and "Niccolò" arrives as written.
func TestWebImportItalianExcelFile(t *testing.T) {
	t.Parallel()
	a, hr, b, m := usersPage(t)
	file := "Nome;Cognome;E-mail;Ruolo;Matricola\r\n" +
		"Niccol\xf2;D\x92Amico;niccolo.excel@example.com;Dipendente;00123\r\n" +
		"Rita;Bianchi;rita.excel@example.com;amministratore;00124\r\n" +
		"Ugo;Neri;ugo.excel@example.com;;00125\r\n"
	st, loc := uploadCSV(t, a.URL(), b, m[1], file)
	if st != 303 || !strings.HasPrefix(loc, "/users/import/") {
		t.Fatalf("upload: %d %s", st, loc)
	}
	if page := waitImport(t, b, loc); !strings.Contains(page, "Importazione completata. Persone invitate: 3") {
		t.Fatalf("the import did not finish with 3 invited:\n%s", page)
	}
	var got []string
	if err := a.DB.Select(&got, `SELECT u.name || ':' || string_agg(r.role, '|' ORDER BY r.role) FROM users u JOIN user_roles r ON r.user_id = u.id
		WHERE u.organisation_id = $1 AND u.status = 'invited' GROUP BY u.name ORDER BY u.name`, hr.Org.ID); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "Niccolò D’Amico:employee,Rita Bianchi:company_admin,Ugo Neri:employee" {
		t.Fatalf("invited %v", got)
	}
}

// A file with mistakes is refused whole, and the page says what to fix in
// Italian: each row, its column by name and the problem, never a raw role
// code or the API's English.
func TestWebImportErrorsInItalian(t *testing.T) {
	t.Parallel()
	a, _, b, m := usersPage(t)
	file := "\ufeffemail,nome,ruolo,sede\n" +
		"ada.err@example.com,Ada,dipendente\n" +
		"non-una-email,Bea,dipendente\n" +
		"caio.err@example.com,Caio,capo\n" +
		"dino.err@example.com,Dino,gestore del fondo\n" +
		"ada.err@example.com,Ada Due,dipendente\n" +
		"eva.err@example.com,E\x00va,dipendente\n" +
		"fede.err@example.com,Fede,dipendente,Sede di Marte\n"
	st, loc := uploadCSV(t, a.URL(), b, m[1], file)
	if st != 303 {
		t.Fatalf("upload: %d %s", st, loc)
	}
	page := waitImport(t, b, loc)
	for _, want := range []string{
		"Righe da correggere: 6",
		`<td data-label="Riga">8</td><td data-label="Campo">Sede</td><td data-label="Problema">Nessuna sede dell&#39;azienda si chiama «Sede di Marte»`,
		`<td data-label="Riga">3</td><td data-label="Campo">Email</td><td data-label="Problema">«non-una-email» non è un indirizzo email valido.</td>`,
		"«capo» non è un ruolo: scrivi dipendente oppure amministratore.",
		"Il ruolo «Gestore del fondo» non esiste in questo tipo di organizzazione.",
		"Questo indirizzo c&#39;è già alla riga 2.",
		`<td data-label="Riga">7</td><td data-label="Campo">Nome</td>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the import page lacks %q", want)
		}
	}
	for _, raw := range []string{"fund_manager", "cannot be held", "is not a valid", "already on row"} {
		if strings.Contains(page, raw) {
			t.Errorf("the Italian page shows %q", raw)
		}
	}
	if n := mailsTo(t, a, "ada.err@example.com"); n != 0 {
		t.Fatalf("a refused file invited someone (%d mails)", n)
	}
	// A file that is wrong as a whole is refused on the form itself.
	for file, want := range map[string]string{
		"indirizzo;cognome\nx@example.com;Rossi\n": "La prima riga deve dare il nome alle colonne",
		"email;nome\n": "Il file ha solo la riga con i nomi delle colonne",
	} {
		res, body := uploadCSVPage(t, a.URL(), b, "", file)
		if res.StatusCode != 400 || !strings.Contains(body, want) {
			t.Errorf("%q: %d, the form does not say %q", file, res.StatusCode, want)
		}
	}
}
