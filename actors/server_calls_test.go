package actors

import (
	"strings"
	"testing"
	"time"
)

// Started calls have no timer each: one sweep finds those past their
// deadline. Each must still time out at its own deadline, not earlier
// with another's, and a call answered in time is answered, not timed out.
func TestStartedCallsTimeOutEachAtItsOwnDeadline(t *testing.T) {
	const timeout = 400 * time.Millisecond
	server := fixtureConfig(buildFixture(t), "fx")
	server.Timeout = timeout
	s := openSession(t, startSystem(t, server), `{}`, nil)
	s.call("tools/list", `{}`)

	type answer struct {
		line string
		took time.Duration
	}
	call := func(params string) <-chan answer {
		ch := make(chan answer, 1)
		go func() {
			sent := time.Now()
			line := s.call("tools/call", params)
			ch <- answer{line, time.Since(sent)}
		}()
		return ch
	}
	first := call(`{"name":"fx__hang","arguments":{}}`)
	time.Sleep(timeout / 2)
	second := call(`{"name":"fx__hang","arguments":{}}`)
	quick := call(`{"name":"fx__sleep","arguments":{"ms":50}}`)

	for name, ch := range map[string]<-chan answer{"first": first, "second": second} {
		a := <-ch
		if !strings.Contains(a.line, "timed out") {
			t.Errorf("%s hang: %s, want a timeout", name, a.line)
		}
		if a.took < timeout {
			t.Errorf("%s hang timed out after %v, before its timeout of %v", name, a.took, timeout)
		}
	}
	if a := <-quick; strings.Contains(a.line, "timed out") || !strings.Contains(a.line, `"result"`) {
		t.Errorf("a call answered within its timeout: %s", a.line)
	}
}

func TestDeadlineTickIsAnEighthOfTheTimeoutWithinBounds(t *testing.T) {
	for timeout, want := range map[time.Duration]time.Duration{
		20 * time.Millisecond:  10 * time.Millisecond,
		400 * time.Millisecond: 50 * time.Millisecond,
		4 * time.Second:        500 * time.Millisecond,
		60 * time.Second:       time.Second,
	} {
		if got := deadlineTick(timeout); got != want {
			t.Errorf("deadlineTick(%v) = %v, want %v", timeout, got, want)
		}
	}
}
