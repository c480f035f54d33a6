package identity

import (
	"embed"

	rmail "github.com/reciproca/reciproca/internal/mail"
)

// The mails identity sends are plain-text templates, one file per language
// in mails/<lang>/<name>.txt: the first line is the subject, the rest the
// body. Each mail goes out in every language, Italian first, because its
// recipient has not chosen a language yet.
//
//go:embed mails
var mailFS embed.FS

// mailLanguages are the languages of every mail, in the order they appear.
var mailLanguages = []string{"it", "en"}

var mailTemplates = rmail.MustTemplates(mailFS, "mails", mailLanguages...)

// mailLink is what the link mails (invitation, password reset) show.
type mailLink struct {
	Name string // the recipient's name
	Org  string // the organisation (invitations)
	Link string
}

// composeMail renders mail name (e.g. "invitation") for to in every
// language.
func composeMail(to, name string, data mailLink) (rmail.Message, error) {
	return mailTemplates.Compose(to, name, data)
}

func invitationMail(base, to, name, org, token string) (rmail.Message, error) {
	return composeMail(to, "invitation", mailLink{Name: name, Org: org, Link: base + "/invite?token=" + token})
}

func resetMail(base, to, name, token string) (rmail.Message, error) {
	return composeMail(to, "password_reset", mailLink{Name: name, Link: base + "/password/reset?token=" + token})
}

// invitedAgainMail tells the owner of an existing account that org tried
// to invite their address, and nothing changed.
func invitedAgainMail(base, to, org string) (rmail.Message, error) {
	return composeMail(to, "invited_again", mailLink{Org: org, Link: base + "/password/forgot"})
}
