package webui

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/reciproca/reciproca/internal/db"
)

// formKeyField is the hidden field with a form's idempotency key. Every
// form that creates something carries one ({{template "formkey" .}}): a
// random key issued with the rendered form, so submitting that form twice
// (a double click, a resent request) does the thing once, and every new
// rendering of the form is a new thing. The key must never be derived from
// anything else on the page (the CSRF token is the same on every form).
const formKeyField = "form_key"

// newFormKey is a fresh form key: 128 random bits.
func newFormKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// formWait bounds how long a submission waits for an earlier submission of
// the same form to finish.
const formWait = 5 * time.Second

// untilSettled runs save, and runs it again while an earlier submission of
// the same form is still being saved (db.KeyInProgress), for up to
// formWait: after a double click the browser shows the second answer,
// which should then be the first submission's result, not an error.
func untilSettled(ctx context.Context, save func() error) error {
	deadline := time.Now().Add(formWait)
	for {
		err := save()
		if !db.KeyInProgress(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// formKeyMessage is the message key for an error about the form key
// itself, or "" for any other error.
func formKeyMessage(err error) string {
	switch {
	case db.KeyReused(err):
		return "form.conflict.resent"
	case db.KeyInProgress(err):
		return "form.conflict.in_progress"
	}
	return ""
}
