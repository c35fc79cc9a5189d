package config

import (
	"reflect"
	"testing"
)

func TestAuthDecoding(t *testing.T) {
	clearOverrides(t)
	t.Setenv("PB_TEST_CLIENT_SECRET", "s3cret-value")
	tests := []struct {
		name    string
		content string
		want    *Auth
	}{
		{"none", "servers:\n  a: {url: 'https://h/mcp'}\n", nil},
		{"empty map", "servers:\n  a: {url: 'https://h/mcp', auth: {}}\n", &Auth{}},
		{"every field", "servers:\n  a:\n    url: https://h/mcp\n    auth:\n      client_id: cid\n      client_secret: ${PB_TEST_CLIENT_SECRET}\n      scopes: [read, 'write:all']\n      redirect_port: 8976\n",
			&Auth{ClientID: "cid", ClientSecret: "s3cret-value", Scopes: []string{"read", "write:all"}, RedirectPort: 8976}},
		{"port as text", "servers:\n  a: {url: 'wss://h/ws', auth: {redirect_port: '9000'}}\n", &Auth{RedirectPort: 9000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mustLoad(t, writeConfig(t, "c.yaml", tt.content))
			if got := cfg.Servers[0].Auth; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Auth = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestAuthErrors(t *testing.T) {
	clearOverrides(t)
	srv := func(settings string) string { return "servers:\n  a: {" + settings + "}\n" }
	tests := []struct {
		name, content, key, problem string
	}{
		{"on a command server", srv("command: x, auth: {client_id: c}"), "servers.a.auth", "a command server cannot have auth"},
		{"not a map", srv("url: 'https://h', auth: yes"), "servers.a.auth", "expected a map"},
		{"secret without id", srv("url: 'https://h', auth: {client_secret: s}"), "servers.a.auth.client_secret", "needs a client_id"},
		{"scopes a string", srv("url: 'https://h', auth: {scopes: read}"), "servers.a.auth.scopes", "expected a list of strings"},
		{"scope with a space", srv("url: 'https://h', auth: {scopes: ['a b']}"), "servers.a.auth.scopes[0]", "cannot be empty or hold spaces"},
		{"port zero", srv("url: 'https://h', auth: {redirect_port: 0}"), "servers.a.auth.redirect_port", "must be a port from 1 to 65535"},
		{"port too big", srv("url: 'https://h', auth: {redirect_port: 70000}"), "servers.a.auth.redirect_port", "must be a port"},
		{"port garbage", srv("url: 'https://h', auth: {redirect_port: x}"), "servers.a.auth.redirect_port", "whole number"},
		{"id a number", srv("url: 'https://h', auth: {client_id: 5}"), "servers.a.auth.client_id", "expected a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkError(t, writeConfig(t, "c.yaml", tt.content), tt.key, tt.problem)
		})
	}
}
