package fund

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/catalog"
)

// Identity is who a beneficiary is. It is only ever stored sealed in the
// vault; cases, interventions and the ledger carry the pseudonym.
type Identity struct {
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	// BirthDate is YYYY-MM-DD.
	BirthDate string `json:"birth_date"`
	// FiscalCode is optional: homeless people, recent migrants and
	// temporary codes exist.
	FiscalCode string `json:"fiscal_code,omitempty"`
	Phone      string `json:"phone,omitempty"`
	Email      string `json:"email,omitempty"`
	Address    string `json:"address,omitempty"`
}

// Normalise trims the fields and upper-cases the fiscal code.
func (id *Identity) Normalise() {
	for _, f := range []*string{&id.FirstName, &id.LastName, &id.BirthDate, &id.Phone, &id.Email, &id.Address} {
		*f = strings.TrimSpace(*f)
	}
	id.FiscalCode = strings.ToUpper(strings.Join(strings.Fields(id.FiscalCode), ""))
}

// Validate reports every problem as one invalid error naming each field
// at fault (apperr.AllInvalid), so the intake form marks them all.
func (id Identity) Validate() error {
	d, err := time.Parse(time.DateOnly, id.BirthDate)
	return apperr.AllInvalid(
		problem(id.FirstName == "" || len(id.FirstName) > 100, "first_name", "the first name is required (up to 100 characters)"),
		problem(id.LastName == "" || len(id.LastName) > 100, "last_name", "the last name is required (up to 100 characters)"),
		problem(err != nil || d.Year() < 1900 || d.After(time.Now()), "birth_date", "the birth date must be a past date written YYYY-MM-DD"),
		problem(id.FiscalCode != "" && (len(id.FiscalCode) != 16 || !catalog.ValidFiscalCode(id.FiscalCode)), "fiscal_code",
			"the fiscal code %q is not valid: 16 characters whose last is the check character", id.FiscalCode),
		problem(len(id.Phone) > 40 || len(id.Email) > 200 || len(id.Address) > 300, "address", "contacts and address are too long"))
}

// vault seals and opens identities. The master key never leaves it; each
// beneficiary's data key is random, sealed by the master key (with the
// beneficiary's id as associated data, so a wrapped key cannot be moved
// to another beneficiary), and erasing it erases the identity.
type vault struct{ master []byte }

func (v vault) hashKey(label string) []byte {
	m := hmac.New(sha256.New, v.master)
	m.Write([]byte("reciproca fund vault: " + label))
	return m.Sum(nil)
}

// seal returns the wrapped data key and the sealed identity of id.
func (v vault) seal(beneficiary uuid.UUID, id Identity) (wrapped, sealed []byte, err error) {
	dataKey := make([]byte, 32)
	if _, err := rand.Read(dataKey); err != nil {
		return nil, nil, err
	}
	plain, err := json.Marshal(id)
	if err != nil {
		return nil, nil, err
	}
	if sealed, err = gcmSeal(dataKey, plain, beneficiary[:]); err != nil {
		return nil, nil, err
	}
	wrapped, err = gcmSeal(v.master, dataKey, beneficiary[:])
	return wrapped, sealed, err
}

// open returns the identity sealed with the data key wrapped in wrapped.
func (v vault) open(beneficiary uuid.UUID, wrapped, sealed []byte) (Identity, error) {
	dataKey, err := gcmOpen(v.master, wrapped, beneficiary[:])
	if err != nil {
		return Identity{}, err
	}
	plain, err := gcmOpen(dataKey, sealed, beneficiary[:])
	if err != nil {
		return Identity{}, err
	}
	var id Identity
	return id, json.Unmarshal(plain, &id)
}

// fiscalHash is the keyed hash of a fiscal code within a fund: it finds
// the same person again without storing the code in the clear, and links
// nothing across funds.
func (v vault) fiscalHash(fund uuid.UUID, code string) []byte {
	if code == "" {
		return nil
	}
	m := hmac.New(sha256.New, v.hashKey("fiscal code"))
	m.Write(fund[:])
	m.Write([]byte(code))
	return m.Sum(nil)
}

// personHash is the keyed hash of name and birth date within a fund,
// written the same way whatever the accents, case and spacing.
func (v vault) personHash(fund uuid.UUID, id Identity) []byte {
	m := hmac.New(sha256.New, v.hashKey("person"))
	m.Write(fund[:])
	m.Write([]byte(foldName(id.FirstName) + "|" + foldName(id.LastName) + "|" + id.BirthDate))
	return m.Sum(nil)
}

// foldName lower-cases a name and drops accents, spaces and apostrophes:
// "D'Angelo Nicolò" and "dangelo nicolo" are the same person's name.
func foldName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if plain, ok := unaccented[r]; ok {
			r = plain
		}
		if unicode.IsLetter(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// unaccented maps the accented letters of Italian and its neighbours'
// names to their plain letter.
var unaccented = func() map[rune]rune {
	m := map[rune]rune{}
	for plain, accented := range map[rune]string{'a': "àáâäãå", 'e': "èéêë", 'i': "ìíîï", 'o': "òóôöõ", 'u': "ùúûü",
		'c': "çć", 'n': "ñń", 's': "šś", 'z': "žź", 'y': "ý"} {
		for _, r := range accented {
			m[r] = plain
		}
	}
	return m
}()

func gcmSeal(key, plain, aad []byte) ([]byte, error) {
	g, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, g.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return g.Seal(nonce, nonce, plain, aad), nil
}

func gcmOpen(key, sealed, aad []byte) ([]byte, error) {
	g, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	if len(sealed) < g.NonceSize() {
		return nil, errors.New("sealed data too short")
	}
	return g.Open(nil, sealed[:g.NonceSize()], sealed[g.NonceSize():], aad)
}

func newGCM(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}
