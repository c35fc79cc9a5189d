package config

import "testing"

func TestFilterAllows(t *testing.T) {
	tests := []struct {
		name   string
		filter Filter
		tool   string
		want   bool
	}{
		{"empty filter allows all", Filter{}, "anything", true},
		{"empty filter allows empty name", Filter{}, "", true},
		{"included", Filter{Include: []string{"read_*"}}, "read_file", true},
		{"not included", Filter{Include: []string{"read_*"}}, "write_file", false},
		{"any include matches", Filter{Include: []string{"read_*", "list_*"}}, "list_dir", true},
		{"excluded", Filter{Exclude: []string{"delete_*"}}, "delete_repo", false},
		{"not excluded", Filter{Exclude: []string{"delete_*"}}, "create_repo", true},
		{"exclude beats include", Filter{Include: []string{"*"}, Exclude: []string{"delete_*"}}, "delete_repo", false},
		{"included and not excluded", Filter{Include: []string{"*_repo"}, Exclude: []string{"delete_*"}}, "create_repo", true},
		{"exact name", Filter{Include: []string{"search"}}, "search", true},
		{"exact name is not a prefix", Filter{Include: []string{"search"}}, "search_code", false},
		{"question mark", Filter{Include: []string{"get_?"}}, "get_x", true},
		{"character class", Filter{Exclude: []string{"[dr]*"}}, "rm", false},
		{"star stops at slash", Filter{Include: []string{"fs*"}}, "fs/read", false},
		{"malformed glob matches nothing", Filter{Exclude: []string{"["}}, "x", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.filter.Allows(tt.tool); got != tt.want {
				t.Errorf("%+v.Allows(%q) = %v, want %v", tt.filter, tt.tool, got, tt.want)
			}
		})
	}
}
