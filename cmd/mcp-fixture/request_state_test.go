package main

import (
	"errors"
	"testing"
	"time"
)

func TestStateSealer(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	ss := newStateSealer()
	ss.now = func() time.Time { return now }
	const request = "tools/call test_input_required_result_multi_round"
	sealed := ss.seal(request, []byte(`{"step":2,"name":"Alice"}`))

	data, err := ss.open(request, sealed)
	if err != nil || string(data) != `{"step":2,"name":"Alice"}` {
		t.Fatalf("open = %s, %v", data, err)
	}
	other := newStateSealer()
	other.now = ss.now
	tests := []struct {
		name    string
		sealer  *stateSealer
		request string
		state   string
		want    error
	}{
		{"appended to", ss, request, sealed + "-TAMPERED", errStateTampered},
		{"a byte of the payload changed", ss, request, "X" + sealed[1:], errStateTampered},
		{"no signature", ss, request, sealed[:len(sealed)-44], errStateTampered},
		{"empty", ss, request, "", errStateTampered},
		{"sealed by another process", other, request, sealed, errStateTampered},
		{"for another request", ss, "tools/call test_input_required_result_request_state", sealed, errStateForeign},
	}
	for _, tt := range tests {
		if _, err := tt.sealer.open(tt.request, tt.state); !errors.Is(err, tt.want) {
			t.Errorf("%s: open = %v, want %v", tt.name, err, tt.want)
		}
	}
	now = now.Add(stateLifetime + time.Second)
	if _, err := ss.open(request, sealed); !errors.Is(err, errStateExpired) {
		t.Errorf("open after its lifetime = %v, want %v", err, errStateExpired)
	}
}
