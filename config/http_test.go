package config

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func TestHTTPSection(t *testing.T) {
	clearOverrides(t)
	path := writeConfig(t, "config.yaml", `
http:
  listen: 0.0.0.0:9000
  auth_token: "${PB_TEST_TOKEN}"
  allowed_origins: ["https://app.example.com"]
  session_idle: 5m
  max_sessions: 7
`)
	t.Setenv("PB_TEST_TOKEN", "s3cret")
	t.Setenv("PLUGBOARD_ALLOWED_HOSTS", "pb.example.com, other.example.com")
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	fs.Int("max-sessions", 0, "")
	if err := fs.Parse([]string{"--max-sessions", "9"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path, fs)
	if err != nil {
		t.Fatal(err)
	}
	want := HTTP{Listen: "0.0.0.0:9000", AuthToken: "s3cret", AllowedOrigins: []string{"https://app.example.com"},
		AllowedHosts: []string{"pb.example.com", "other.example.com"}, SessionIdle: 5 * time.Minute, MaxSessions: 9}
	if !reflect.DeepEqual(cfg.HTTP, want) {
		t.Errorf("got %+v\nwant %+v", cfg.HTTP, want)
	}
}

func TestHTTPSectionErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, key string }{
		{"http:\n  listen: nowhere\n", "http.listen"},
		{"http:\n  session_idle: soon\n", "http.session_idle"},
		{"http:\n  max_sessions: 0\n", "http.max_sessions"},
		{"http: 3\n", "http"},
	} {
		clearOverrides(t)
		_, err := Load(writeConfig(t, "config.yaml", tc.yaml), nil)
		if err == nil || !strings.Contains(err.Error(), tc.key+":") {
			t.Errorf("%q: got %v, want an error naming %s", tc.yaml, err, tc.key)
		}
	}
}
