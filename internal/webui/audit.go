package webui

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/reciproca/reciproca/internal/identity"
)

// auditRow is an audit event as the security log page shows it: the event
// and its details in the reader's language, never the stored codes.
type auditRow struct {
	At      time.Time
	Event   string
	Email   string
	IP      string
	Details []auditDetail
}

// auditDetail is one detail of an event, translated.
type auditDetail struct{ Name, Value string }

// auditRows translates entries into lang. An event or detail without a
// translation (a domain added it since) shows its code, so the gap is
// visible rather than hidden.
func (u *UI) auditRows(lang string, entries []identity.AuditEntry) []auditRow {
	out := make([]auditRow, len(entries))
	for i, e := range entries {
		r := auditRow{At: e.At, Event: u.tOr(lang, "audit.event."+e.Event, e.Event), IP: e.IP}
		if e.Email != nil {
			r.Email = *e.Email
		}
		var details map[string]any
		_ = json.Unmarshal([]byte(e.Details), &details)
		keys := make([]string, 0, len(details))
		for k := range details {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			r.Details = append(r.Details, auditDetail{Name: u.tOr(lang, "audit.detail."+k, k), Value: u.auditValue(lang, k, details[k])})
		}
		out[i] = r
	}
	return out
}

// auditValue writes one detail value: roles and kinds by their names,
// coded values (a sign-in failure's reason) by their translation.
func (u *UI) auditValue(lang, key string, v any) string {
	switch x := v.(type) {
	case []any:
		parts := make([]string, len(x))
		for i, p := range x {
			parts[i] = u.auditValue(lang, key, p)
		}
		if len(parts) == 0 {
			return "—"
		}
		return strings.Join(parts, ", ")
	case string:
		for _, k := range []string{"audit.value." + key + "." + x, "identity.role." + x, "identity.kind." + x} {
			if s := u.cat.T(lang, k); s != k {
				return s
			}
		}
		return x
	case nil:
		return "—"
	}
	return fmt.Sprint(v)
}

// tOr is the message key in lang, or fallback when the catalogue lacks it.
func (u *UI) tOr(lang, key, fallback string) string {
	if s := u.cat.T(lang, key); s != key {
		return s
	}
	return fallback
}
