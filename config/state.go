package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// State is what the user changes at run time from the CLI, kept in a
// state file beside the configuration file (StatePath), 0600: it survives
// restarts and reloads, and is read with the configuration on each.
type State struct {
	// DisabledTools are client-facing tool names (`plugboard tools
	// disable`): hidden from clients and refused if called.
	DisabledTools []string `json:"disabled_tools"`
	// Workspace is the default workspace `plugboard workspace use` chose;
	// "" leaves it to the configuration.
	Workspace string `json:"workspace,omitempty"`
}

// StatePath is the state file of the configuration file at configPath:
// NAME.plugboard-state.json beside it, for the configuration NAME.EXT.
func StatePath(configPath string) string {
	base := filepath.Base(configPath)
	base = strings.TrimSuffix(base, filepath.Ext(base))
	return filepath.Join(filepath.Dir(configPath), base+".plugboard-state.json")
}

// LoadState reads a state file; a missing one is an empty State.
func LoadState(path string) (State, error) {
	var st State
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, &Error{File: path, Problem: fmt.Sprintf("cannot read the state file: %v", err)}
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return st, &Error{File: path, Problem: fmt.Sprintf("the state file is not what plugboard writes: %v (fix or delete it)", err)}
	}
	return st, nil
}

// SaveState writes a state file, 0600, replacing the old one whole so
// that a reader never sees half of it.
func SaveState(path string, st State) error {
	sort.Strings(st.DisabledTools)
	if st.DisabledTools == nil {
		st.DisabledTools = []string{}
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".plugboard-state-*")
	if err != nil {
		return fmt.Errorf("writing the state file: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("writing the state file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing the state file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing the state file: %w", err)
	}
	return nil
}
