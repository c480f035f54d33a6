package config

import (
	"strings"
	"testing"
)

func lookup(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestFromLookupDefaults(t *testing.T) {
	c, err := FromLookup(lookup(map[string]string{"DATABASE_URL": "postgres://x/y"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":8080" || c.BaseURL != "http://localhost:8080" || !c.Development() || !c.RunWorker ||
		c.SMTPURL != "smtp://127.0.0.1:1025" || c.MailFrom != "Reciproca <no-reply@localhost>" ||
		c.MigrateDatabaseURL != "postgres://x/y" {
		t.Fatalf("unexpected defaults: %+v", c)
	}
	c, err = FromLookup(lookup(map[string]string{"DATABASE_URL": "postgres://app@x/y", "MIGRATE_DATABASE_URL": "postgres://owner@x/y"}))
	if err != nil || c.DatabaseURL != "postgres://app@x/y" || c.MigrateDatabaseURL != "postgres://owner@x/y" {
		t.Fatalf("the app's and the migrations' databases: %+v, %v", c, err)
	}
	c, err = FromLookup(lookup(map[string]string{"DATABASE_URL": "postgres://x/y", "PORT": "9090", "BASE_URL": "https://welfare.example/"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":9090" || c.BaseURL != "https://welfare.example" || c.MailFrom != "Reciproca <no-reply@welfare.example>" {
		t.Fatalf("PORT/BASE_URL not honoured: %+v", c)
	}
}

// In production serve does not run the worker (reciproca worker does),
// unless told to.
func TestRunWorkerDefaults(t *testing.T) {
	prod := map[string]string{"DATABASE_URL": "x", "APP_ENV": "production", "BASE_URL": "https://w.example",
		"STRIPE_WEBHOOK_SECRET": "whsec_live", "STRIPE_CONNECT_WEBHOOK_SECRET": "whsec_live_connect",
		"SMTP_URL": "smtp://relay.example:587", "JWT_SIGNING_KEY": "k", "TOTP_ENCRYPTION_KEY": "k",
		"LEDGER_SIGNING_KEY": "k", "METRICS_TOKEN": "a-long-metrics-token",
		"FUND_VAULT_KEY": "k"}
	c, err := FromLookup(lookup(prod))
	if err != nil || c.RunWorker {
		t.Fatalf("production: RunWorker %v, %v", c.RunWorker, err)
	}
	prod["RUN_WORKER"] = "true"
	if c, err := FromLookup(lookup(prod)); err != nil || !c.RunWorker {
		t.Fatalf("production with RUN_WORKER=true: %v, %v", c.RunWorker, err)
	}
}

func TestFromLookupRejectsBadValues(t *testing.T) {
	cases := map[string]struct {
		env  map[string]string
		want string
	}{
		"missing database":    {map[string]string{}, "DATABASE_URL is required"},
		"bad port":            {map[string]string{"DATABASE_URL": "x", "PORT": "eighty"}, "PORT must be an integer"},
		"bad env":             {map[string]string{"DATABASE_URL": "x", "APP_ENV": "staging"}, "APP_ENV"},
		"bad duration":        {map[string]string{"DATABASE_URL": "x", "SHUTDOWN_TIMEOUT": "soon"}, "SHUTDOWN_TIMEOUT"},
		"prod dev secret":     {map[string]string{"DATABASE_URL": "x", "APP_ENV": "production"}, "STRIPE_WEBHOOK_SECRET"},
		"relative base":       {map[string]string{"DATABASE_URL": "x", "BASE_URL": "/app"}, "BASE_URL"},
		"prod no jwt key":     {map[string]string{"DATABASE_URL": "x", "APP_ENV": "production", "STRIPE_WEBHOOK_SECRET": "whsec_live", "BASE_URL": "https://w.example"}, "JWT_SIGNING_KEY"},
		"prod over http":      {map[string]string{"DATABASE_URL": "x", "APP_ENV": "production", "STRIPE_WEBHOOK_SECRET": "whsec_live", "JWT_SIGNING_KEY": "k"}, "https"},
		"prod no totp key":    {map[string]string{"DATABASE_URL": "x", "APP_ENV": "production", "STRIPE_WEBHOOK_SECRET": "whsec_live", "JWT_SIGNING_KEY": "k"}, "TOTP_ENCRYPTION_KEY"},
		"prod dev connect":    {map[string]string{"DATABASE_URL": "x", "APP_ENV": "production", "STRIPE_WEBHOOK_SECRET": "whsec_live"}, "STRIPE_CONNECT_WEBHOOK_SECRET"},
		"prod no smtp":        {map[string]string{"DATABASE_URL": "x", "APP_ENV": "production"}, "SMTP_URL"},
		"prod no ledger key":  {map[string]string{"DATABASE_URL": "x", "APP_ENV": "production"}, "LEDGER_SIGNING_KEY"},
		"prod dev ledger key": {map[string]string{"DATABASE_URL": "x", "APP_ENV": "production", "LEDGER_SIGNING_KEY": DevLedgerKey}, "LEDGER_SIGNING_KEY"},
		"prod no metrics":     {map[string]string{"DATABASE_URL": "x", "APP_ENV": "production"}, "METRICS_TOKEN"},
		"bad proxy":           {map[string]string{"DATABASE_URL": "x", "TRUSTED_PROXIES": "10.0.0.1, proxy.example"}, "TRUSTED_PROXIES"},
		"bad run worker":      {map[string]string{"DATABASE_URL": "x", "RUN_WORKER": "sometimes"}, "RUN_WORKER"},
		"weak argon2":         {map[string]string{"DATABASE_URL": "x", "ARGON2_MEMORY_KIB": "1024"}, "ARGON2_MEMORY_KIB"},
		"bad token ttl":       {map[string]string{"DATABASE_URL": "x", "ACCESS_TOKEN_TTL": "forever"}, "ACCESS_TOKEN_TTL"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := FromLookup(lookup(tc.env))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

// TRUSTED_PROXIES takes addresses and ranges, IPv4 and IPv6.
func TestTrustedProxies(t *testing.T) {
	c, err := FromLookup(lookup(map[string]string{"DATABASE_URL": "x", "TRUSTED_PROXIES": "10.0.0.1, 192.168.0.0/16 ::1"}))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range c.TrustedProxies {
		got = append(got, n.String())
	}
	if strings.Join(got, " ") != "10.0.0.1/32 192.168.0.0/16 ::1/128" {
		t.Fatalf("trusted proxies = %v", got)
	}
	if c, _ := FromLookup(lookup(map[string]string{"DATABASE_URL": "x"})); len(c.TrustedProxies) != 0 {
		t.Fatalf("no TRUSTED_PROXIES, yet %v", c.TrustedProxies)
	}
}
