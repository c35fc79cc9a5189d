package main

import "testing"

func TestMatchTemplate(t *testing.T) {
	tests := []struct {
		template, uri string
		wantID        string
		wantOK        bool
	}{
		{"test://template/{id}/data", "test://template/123/data", "123", true},
		{"test://template/{id}/data", "test://template//data", "", false},
		{"test://template/{id}/data", "test://template/1/2/data", "", false},
		{"test://template/{id}/data", "test://template/123/other", "", false},
		{"fixture://a/items/{id}", "fixture://a/items/x-y", "x-y", true},
		{"fixture://a/items/{id}", "fixture://b/items/x", "", false},
		{"fixture://a/static", "fixture://a/static", "", false},
	}
	for _, tt := range tests {
		id, ok := matchTemplate(tt.template, tt.uri)
		if id != tt.wantID || ok != tt.wantOK {
			t.Errorf("matchTemplate(%q, %q) = %q, %v; want %q, %v", tt.template, tt.uri, id, ok, tt.wantID, tt.wantOK)
		}
	}
}
