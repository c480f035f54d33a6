package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
)

// SMTP sends mail through one SMTP server, given as a URL:
//
//	smtp://host:port                 plain, upgraded with STARTTLS when offered (Mailpit: smtp://127.0.0.1:1025)
//	smtp://user:pass@host:587        STARTTLS, then AUTH PLAIN
//	smtps://user:pass@host:465       TLS from the first byte
type SMTP struct {
	addr     string
	host     string
	implicit bool
	auth     smtp.Auth
	from     mail.Address
	timeout  time.Duration
}

// PermanentError is a refusal that retrying will not change (SMTP 5xx).
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return "permanent: " + e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// ServerError means the mail server could not be reached or talked to.
type ServerError struct{ Err error }

func (e *ServerError) Error() string { return "mail server: " + e.Err.Error() }
func (e *ServerError) Unwrap() error { return e.Err }

// NewSMTP returns a sender for the server at rawURL, sending from from
// (e.g. "Reciproca <no-reply@example.org>").
func NewSMTP(rawURL, from string) (*SMTP, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
		return nil, fmt.Errorf("SMTP_URL must look like smtp://host:port or smtps://user:pass@host:465")
	}
	fromAddr, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("MAIL_FROM must be a mail address: %w", err)
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"smtp": "25", "smtps": "465"}[u.Scheme]
	}
	s := &SMTP{addr: net.JoinHostPort(u.Hostname(), port), host: u.Hostname(), implicit: u.Scheme == "smtps",
		from: *fromAddr, timeout: 30 * time.Second}
	if u.User != nil {
		pass, _ := u.User.Password()
		s.auth = smtp.PlainAuth("", u.User.Username(), pass, u.Hostname())
	}
	return s, nil
}

// Send delivers one message; it is a Sender.
func (s *SMTP) Send(ctx context.Context, id uuid.UUID, m Message) error {
	if err := m.Validate(); err != nil {
		return &PermanentError{err}
	}
	c, err := s.dial(ctx)
	if err != nil {
		return &ServerError{err}
	}
	defer c.Close()
	if err := s.transact(c, id, m); err != nil {
		var te *textproto.Error
		if errors.As(err, &te) && te.Code >= 500 {
			return &PermanentError{err}
		}
		if errors.As(err, &te) {
			return err
		}
		return &ServerError{err}
	}
	return c.Quit()
}

func (s *SMTP) dial(ctx context.Context) (*smtp.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var conn net.Conn
	var err error
	d := &net.Dialer{}
	if s.implicit {
		conn, err = (&tls.Dialer{NetDialer: d, Config: &tls.Config{ServerName: s.host}}).DialContext(ctx, "tcp", s.addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", s.addr)
	}
	if err != nil {
		return nil, err
	}
	// The whole conversation shares one deadline: a server that stops
	// answering cannot hold the worker.
	_ = conn.SetDeadline(time.Now().Add(s.timeout))
	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

func (s *SMTP) transact(c *smtp.Client, id uuid.UUID, m Message) error {
	if err := c.Hello(helloName(s.from.Address)); err != nil {
		return err
	}
	if ok, _ := c.Extension("STARTTLS"); ok && !s.implicit {
		if err := c.StartTLS(&tls.Config{ServerName: s.host}); err != nil {
			return err
		}
	}
	if s.auth != nil {
		if err := c.Auth(s.auth); err != nil {
			return err
		}
	}
	if err := c.Mail(s.from.Address); err != nil {
		return err
	}
	if err := c.Rcpt(m.To); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(compose(s.from, id, m, time.Now())); err != nil {
		return err
	}
	return w.Close()
}

// compose renders m as a plain-text UTF-8 message whose Message-ID is the
// outbox id.
func compose(from mail.Address, id uuid.UUID, m Message, now time.Time) []byte {
	var b bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	h("From", from.String())
	h("To", m.To)
	h("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	h("Date", now.Format(time.RFC1123Z))
	h("Message-ID", "<"+id.String()+"@"+helloName(from.Address)+">")
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	// In text mode the writer turns line breaks into CRLF.
	_, _ = qp.Write([]byte(m.Body))
	_ = qp.Close()
	return b.Bytes()
}

// helloName is the domain of the sender's address, used to greet the
// server and in Message-IDs.
func helloName(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 && i < len(addr)-1 {
		return addr[i+1:]
	}
	return "localhost"
}
