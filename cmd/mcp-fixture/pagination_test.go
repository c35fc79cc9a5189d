package main

import (
	"slices"
	"testing"
)

func TestPaginate(t *testing.T) {
	items := []string{"a", "b", "c", "d", "e"}
	tests := []struct {
		name     string
		cursor   string
		pageSize int
		want     []string
		wantNext string
		wantErr  bool
	}{
		{name: "no pagination", pageSize: 0, want: items},
		{name: "first page", pageSize: 2, want: []string{"a", "b"}, wantNext: encodeCursor("tools", 2)},
		{name: "middle page", cursor: encodeCursor("tools", 2), pageSize: 2, want: []string{"c", "d"}, wantNext: encodeCursor("tools", 4)},
		{name: "last page", cursor: encodeCursor("tools", 4), pageSize: 2, want: []string{"e"}},
		{name: "exact fit", pageSize: 5, want: items},
		{name: "list shrank", cursor: encodeCursor("tools", 9), pageSize: 2, want: []string{}},
		{name: "other list's cursor", cursor: encodeCursor("prompts", 2), pageSize: 2, wantErr: true},
		{name: "garbage cursor", cursor: "%%%", pageSize: 2, wantErr: true},
		{name: "negative offset", cursor: encodeCursor("tools", -1), pageSize: 2, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, next, err := paginate(items, "tools", tt.cursor, tt.pageSize)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("paginate(%q) = %v, want an error", tt.cursor, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("paginate(%q): %v", tt.cursor, err)
			}
			if !slices.Equal(got, tt.want) || next != tt.wantNext {
				t.Errorf("paginate(%q) = %v, next %q; want %v, next %q", tt.cursor, got, next, tt.want, tt.wantNext)
			}
		})
	}
}
