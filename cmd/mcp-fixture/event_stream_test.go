package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestParseEventID(t *testing.T) {
	tests := []struct {
		id          string
		stream, seq int
		wantOK      bool
	}{
		{"0-0", 0, 0, true},
		{"12-345", 12, 345, true},
		{"", 0, 0, false},
		{"7", 0, 0, false},
		{"a-1", 0, 0, false},
		{"1--1", 0, 0, false},
		{"1-2-3", 0, 0, false},
	}
	for _, tt := range tests {
		stream, seq, ok := parseEventID(tt.id)
		if ok != tt.wantOK || (ok && (stream != tt.stream || seq != tt.seq)) {
			t.Errorf("parseEventID(%q) = %d, %d, %v; want %d, %d, %v", tt.id, stream, seq, ok, tt.stream, tt.seq, tt.wantOK)
		}
		if tt.wantOK && eventID(stream, seq) != tt.id {
			t.Errorf("eventID(%d, %d) = %q, want %q", stream, seq, eventID(stream, seq), tt.id)
		}
	}
}

func TestSSEEventWireForm(t *testing.T) {
	tests := []struct {
		ev   sseEvent
		want string
	}{
		{sseEvent{id: "3-1", name: "message", data: []byte(`{"a":1}`)}, "id: 3-1\nevent: message\ndata: {\"a\":1}\n\n"},
		{sseEvent{id: "3-0", retry: retryDelay}, "id: 3-0\nretry: 100\ndata: \n\n"},
		{sseEvent{retry: retryDelay}, "retry: 100\n\n"},
		{sseEvent{name: "endpoint", data: []byte("/message?sessionId=x")}, "event: endpoint\ndata: /message?sessionId=x\n\n"},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		if err := tt.ev.writeTo(&b); err != nil || b.String() != tt.want {
			t.Errorf("%+v written as %q, %v; want %q", tt.ev, b.String(), err, tt.want)
		}
	}
}

// carried runs a connection over a stream that has ended, so that carry
// returns without waiting, and returns what it wrote.
func carried(t *testing.T, conn *streamConn) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
	defer cancel()
	var b bytes.Buffer
	if !conn.carry(ctx, &b, func() error { return nil }) {
		t.Errorf("carrying stream %d did not complete", conn.st.id)
	}
	return b.String()
}

func TestEventStreamResumes(t *testing.T) {
	st := newEventStream(4)
	st.push(nil)
	st.push([]byte(`{"n":1}`))
	first := st.attach()
	st.end([]byte(`{"n":2}`))
	if got, want := carried(t, first),
		"id: 4-0\nretry: 100\ndata: \n\n"+
			"id: 4-1\nevent: message\ndata: {\"n\":1}\n\n"+
			"id: 4-2\nevent: message\ndata: {\"n\":2}\n\n"; got != want {
		t.Errorf("first connection wrote %q, want %q", got, want)
	}
	if st.push([]byte("late")) {
		t.Error("an ended stream took another event")
	}

	resumed, err := st.resumeAfter(1)
	if err != nil {
		t.Fatal(err)
	}
	if got := carried(t, resumed); got != "id: 4-2\nevent: message\ndata: {\"n\":2}\n\n" {
		t.Errorf("resuming after 4-1 wrote %q", got)
	}
	if _, err := st.resumeAfter(5); !errors.Is(err, errEventUnknown) {
		t.Errorf("resuming after an event never sent: %v, want errEventUnknown", err)
	}
}

func TestEventStreamForgetsOnlyDeliveredEvents(t *testing.T) {
	st := newEventStream(1)
	for range 3 * keptEvents {
		st.push([]byte("{}"))
	}
	conn := st.attach()
	st.end(nil)
	if n := strings.Count(carried(t, conn), "event: message"); n != 3*keptEvents {
		t.Errorf("a late connection got %d of %d undelivered events", n, 3*keptEvents)
	}
	if _, err := st.resumeAfter(0); !errors.Is(err, errEventForgotten) {
		t.Errorf("resuming after the first of %d delivered events: %v, want errEventForgotten", 3*keptEvents, err)
	}
	if _, err := st.resumeAfter(3*keptEvents - 2); err != nil {
		t.Errorf("resuming near the end: %v", err)
	}
}

func TestEventStreamCut(t *testing.T) {
	st := newEventStream(2)
	st.push(nil)
	conn := st.attach()
	st.cut()
	ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
	defer cancel()
	var b bytes.Buffer
	if conn.carry(ctx, &b, func() error { return nil }) {
		t.Error("a cut connection reported the stream complete")
	}
	if got, want := b.String(), "id: 2-0\nretry: 100\ndata: \n\nretry: 100\n\n"; got != want {
		t.Errorf("cut connection wrote %q, want the priming event and a retry hint %q", got, want)
	}
	st.end([]byte(`{"done":true}`))
	resumed, err := st.resumeAfter(0)
	if err != nil {
		t.Fatal(err)
	}
	if got := carried(t, resumed); !strings.Contains(got, `{"done":true}`) {
		t.Errorf("resumed connection wrote %q, want the last event", got)
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		body     string
		want     frameKind
		wantCode int // 0 for no error
	}{
		{`{"jsonrpc":"2.0","id":1,"method":"ping"}`, kindRequest, 0},
		{`{"jsonrpc":"2.0","id":null,"method":"ping"}`, kindRequest, 0}, // the session answers it
		{`{"jsonrpc":"2.0","method":"notifications/initialized"}`, kindNotification, 0},
		{`{"jsonrpc":"2.0","id":"fx-1","result":{}}`, kindResponse, 0},
		{`{"jsonrpc":"2.0","id":"fx-1","error":{"code":-1,"message":"no"}}`, kindResponse, 0},
		{`{"jsonrpc":"2.0","id":1,"method":`, 0, codeParseError},
		{`[{"jsonrpc":"2.0","id":1,"method":"ping"}]`, 0, codeInvalidRequest},
		{`{"jsonrpc":"1.0","id":1,"method":"ping"}`, 0, codeInvalidRequest},
		{`{"jsonrpc":"2.0","id":1}`, 0, codeInvalidRequest},
	}
	for _, tt := range tests {
		_, kind, err := classify([]byte(tt.body))
		switch {
		case tt.wantCode == 0 && (err != nil || kind != tt.want):
			t.Errorf("classify(%s) = %v, %v; want kind %v", tt.body, kind, err, tt.want)
		case tt.wantCode != 0 && (err == nil || err.Code != tt.wantCode):
			t.Errorf("classify(%s) error = %v, want code %d", tt.body, err, tt.wantCode)
		}
	}
}

func TestAccepts(t *testing.T) {
	tests := []struct {
		accept    string
		mediaType string
		want      bool
	}{
		{"application/json, text/event-stream", "text/event-stream", true},
		{"application/json, text/event-stream", "application/json", true},
		{"application/json;q=0.9,text/event-stream;q=0.8", "text/event-stream", true},
		{"text/*", "text/event-stream", true},
		{"*/*", "application/json", true},
		{"application/json", "text/event-stream", false},
		{"", "application/json", false},
	}
	for _, tt := range tests {
		r, _ := http.NewRequest(http.MethodGet, "http://localhost/mcp", nil)
		if tt.accept != "" {
			r.Header.Set("Accept", tt.accept)
		}
		if got := accepts(r, tt.mediaType); got != tt.want {
			t.Errorf("accepts(Accept: %q, %s) = %v, want %v", tt.accept, tt.mediaType, got, tt.want)
		}
	}
}
