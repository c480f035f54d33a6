package sepa

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Namespace is the CBI payment request's XML namespace (version 00.04.01,
// in force since 19/11/2023).
const Namespace = "urn:CBI:xsd:CBIPaymentRequest.00.04.01"

// Address is a creditor's structured postal address. Unstructured address
// lines are not written at all: banks refuse them from 15/11/2026. Town
// and country are required when an address is given.
type Address struct {
	Street   string
	Building string
	PostCode string
	Town     string
	Country  string // ISO 3166 alpha-2
}

// Payment is one credit transfer.
type Payment struct {
	// EndToEndID travels with the money to the creditor (1–35 characters).
	EndToEndID string
	// Amount in euro cents, > 0.
	Amount int64
	// Creditor is the account holder's exact name (payee verification
	// compares it with the account).
	Creditor string
	IBAN     string
	Address  *Address
	// Remittance is the only text the creditor sees: the invoice or notice
	// reference, never who it is for or why.
	Remittance string
}

// Batch is one payment file: one debtor account, one execution date.
type Batch struct {
	MessageID string    // 1–35 characters, unique per file: the bank refuses a second file with it
	CreatedAt time.Time // written as the file's creation time
	// ExecutionDate is the day the bank should pay (Italian calendar day).
	ExecutionDate time.Time
	// CUC is the debtor's CBI company code (codice unico CBI).
	CUC        string
	DebtorName string
	DebtorIBAN string
	Payments   []Payment
}

var (
	cucRe = regexp.MustCompile(`^[0-9A-Z]{8}$`)
	idRe  = regexp.MustCompile(`^[A-Za-z0-9/\-?:().,'+ ]{1,35}$`)
	ctyRe = regexp.MustCompile(`^[A-Z]{2}$`)
)

// Validate reports the first problem with b, naming the payment.
func (b Batch) Validate() error {
	switch {
	case !idRe.MatchString(b.MessageID):
		return errors.New("message id must be 1 to 35 SEPA characters")
	case !cucRe.MatchString(b.CUC):
		return errors.New("the CUC must be 8 letters or digits")
	case Latin(b.DebtorName) == "":
		return errors.New("the debtor's name is required")
	case !ValidIBAN(b.DebtorIBAN) || ABI(b.DebtorIBAN) == "":
		return errors.New("the debtor account must be a valid Italian IBAN")
	case len(b.Payments) == 0:
		return errors.New("a batch needs at least one payment")
	}
	for i, p := range b.Payments {
		if err := p.validate(); err != nil {
			return fmt.Errorf("payment %d: %w", i+1, err)
		}
	}
	return nil
}

func (p Payment) validate() error {
	switch {
	case !idRe.MatchString(p.EndToEndID):
		return errors.New("end-to-end id must be 1 to 35 SEPA characters")
	case p.Amount <= 0 || p.Amount > 99_999_999_999:
		return errors.New("amount out of range")
	case Latin(p.Creditor) == "":
		return errors.New("the creditor's name is required")
	case !ValidIBAN(p.IBAN):
		return errors.New("the creditor's IBAN is not valid")
	case Latin(p.Remittance) == "":
		return errors.New("the remittance reference is required")
	}
	if a := p.Address; a != nil && (Latin(a.Town) == "" || !ctyRe.MatchString(a.Country)) {
		return errors.New("a structured address needs a town and a country code")
	}
	return nil
}

// XML writes the batch as a CBIPaymentRequest: deterministic, so the
// same batch always gives the same bytes. Errors: Validate's.
func (b Batch) XML() ([]byte, error) {
	if err := b.Validate(); err != nil {
		return nil, err
	}
	var total int64
	for _, p := range b.Payments {
		total += p.Amount
	}
	debtor := clip(Latin(b.DebtorName), 70)
	doc := xmlRequest{
		Xmlns: Namespace,
		GrpHdr: xmlGroupHeader{MsgID: b.MessageID, CreDtTm: b.CreatedAt.In(rome).Format("2006-01-02T15:04:05"),
			NbOfTxs: fmt.Sprint(len(b.Payments)), CtrlSum: euro(total),
			InitgPty: xmlInitiator{Nm: debtor, Othr: xmlOther{ID: b.CUC, Issr: "CBI"}}},
		PmtInf: xmlPaymentInfo{PmtInfID: b.MessageID, PmtMtd: "TRF", BtchBookg: "true",
			SvcLvl: "SEPA", ReqdExctnDt: b.ExecutionDate.In(rome).Format(time.DateOnly),
			Dbtr: debtor, DbtrIBAN: b.DebtorIBAN, DbtrABI: ABI(b.DebtorIBAN), ChrgBr: "SLEV"},
	}
	for i, p := range b.Payments {
		tx := xmlTransaction{InstrID: fmt.Sprint(i + 1), EndToEndID: p.EndToEndID,
			Amt: xmlAmount{Ccy: "EUR", Value: euro(p.Amount)}, Cdtr: xmlCreditor{Nm: clip(Latin(p.Creditor), 70)},
			CdtrIBAN: p.IBAN, Ustrd: clip(Latin(p.Remittance), 140)}
		if a := p.Address; a != nil {
			tx.Cdtr.PstlAdr = &xmlAddress{StrtNm: clip(Latin(a.Street), 70), BldgNb: clip(Latin(a.Building), 16),
				PstCd: clip(Latin(a.PostCode), 16), TwnNm: clip(Latin(a.Town), 35), Ctry: a.Country}
		}
		doc.PmtInf.Txs = append(doc.PmtInf.Txs, tx)
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	buf.WriteString("\n")
	return buf.Bytes(), nil
}

var rome = func() *time.Location {
	l, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		return time.FixedZone("CET", 3600)
	}
	return l
}()

func euro(cents int64) string { return fmt.Sprintf("%d.%02d", cents/100, cents%100) }

// clip cuts s to at most n characters.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return strings.TrimSpace(string([]rune(s)[:n]))
}

// latinFold maps accented letters to the plain letters the SEPA character
// set has; other characters outside it become spaces.
var latinFold = strings.NewReplacer(
	"à", "a", "á", "a", "â", "a", "ä", "a", "è", "e", "é", "e", "ê", "e", "ë", "e", "ì", "i", "í", "i", "î", "i", "ï", "i",
	"ò", "o", "ó", "o", "ô", "o", "ö", "o", "ù", "u", "ú", "u", "û", "u", "ü", "u", "ç", "c", "ñ", "n",
	"À", "A", "Á", "A", "È", "E", "É", "E", "Ì", "I", "Í", "I", "Ò", "O", "Ó", "O", "Ù", "U", "Ú", "U", "Ç", "C", "Ñ", "N",
	"’", "'", "&", "+", "–", "-", "°", ".")

// Latin writes s in the SEPA character set (a-z A-Z 0-9 / - ? : ( ) . , '
// + space), folding accents, and trims it.
func Latin(s string) string {
	s = latinFold.Replace(s)
	out := []rune(s)
	for i, r := range out {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/-?:().,'+ ", r)) {
			out[i] = ' '
		}
	}
	return strings.Join(strings.Fields(string(out)), " ")
}

// The message, element by element (CBIPaymentRequest.00.04.01).
type xmlRequest struct {
	XMLName xml.Name       `xml:"CBIPaymentRequest"`
	Xmlns   string         `xml:"xmlns,attr"`
	GrpHdr  xmlGroupHeader `xml:"GrpHdr"`
	PmtInf  xmlPaymentInfo `xml:"PmtInf"`
}

type xmlGroupHeader struct {
	MsgID    string       `xml:"MsgId"`
	CreDtTm  string       `xml:"CreDtTm"`
	NbOfTxs  string       `xml:"NbOfTxs"`
	CtrlSum  string       `xml:"CtrlSum"`
	InitgPty xmlInitiator `xml:"InitgPty"`
}

type xmlInitiator struct {
	Nm   string   `xml:"Nm"`
	Othr xmlOther `xml:"Id>OrgId>Othr"`
}

type xmlOther struct {
	ID   string `xml:"Id"`
	Issr string `xml:"Issr"`
}

type xmlPaymentInfo struct {
	PmtInfID    string           `xml:"PmtInfId"`
	PmtMtd      string           `xml:"PmtMtd"`
	BtchBookg   string           `xml:"BtchBookg"`
	SvcLvl      string           `xml:"PmtTpInf>SvcLvl>Cd"`
	ReqdExctnDt string           `xml:"ReqdExctnDt>Dt"`
	Dbtr        string           `xml:"Dbtr>Nm"`
	DbtrIBAN    string           `xml:"DbtrAcct>Id>IBAN"`
	DbtrABI     string           `xml:"DbtrAgt>FinInstnId>ClrSysMmbId>MmbId"`
	ChrgBr      string           `xml:"ChrgBr"`
	Txs         []xmlTransaction `xml:"CdtTrfTxInf"`
}

type xmlTransaction struct {
	InstrID    string      `xml:"PmtId>InstrId"`
	EndToEndID string      `xml:"PmtId>EndToEndId"`
	Amt        xmlAmount   `xml:"Amt>InstdAmt"`
	Cdtr       xmlCreditor `xml:"Cdtr"`
	CdtrIBAN   string      `xml:"CdtrAcct>Id>IBAN"`
	Ustrd      string      `xml:"RmtInf>Ustrd"`
}

type xmlAmount struct {
	Ccy   string `xml:"Ccy,attr"`
	Value string `xml:",chardata"`
}

type xmlCreditor struct {
	Nm      string      `xml:"Nm"`
	PstlAdr *xmlAddress `xml:"PstlAdr,omitempty"`
}

type xmlAddress struct {
	StrtNm string `xml:"StrtNm,omitempty"`
	BldgNb string `xml:"BldgNb,omitempty"`
	PstCd  string `xml:"PstCd,omitempty"`
	TwnNm  string `xml:"TwnNm"`
	Ctry   string `xml:"Ctry"`
}
