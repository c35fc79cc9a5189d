package actors

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// A server's capacity is bounded: past maxInflightPerServer in flight and
// maxQueuedPerServer queued, a call is refused at once with an error
// naming the server. One session cannot get there (it is capped at
// maxInflightPerSession), so four sessions fill it with calls that never
// answer, and exactly the excess is refused.
func TestServerPastItsCapacityRefusesCallsAtOnce(t *testing.T) {
	bin := buildFixture(t)
	fx := fixtureConfig(bin, "fx")
	fx.Timeout = 5 * time.Minute // nothing times out during the test
	sys := startSystem(t, fx)

	const sessions = 4
	sent := sessions * maxInflightPerSession
	wantRefused := sent - maxInflightPerServer - maxQueuedPerServer
	answers := make(chan json.RawMessage, sent)
	for i := 0; i < sessions; i++ {
		s := openSession(t, sys, `{}`, nil)
		s.call("tools/list", `{}`) // the server is ready
		s.mu.Lock()
		for j := 0; j < maxInflightPerSession; j++ {
			s.waiting[fmt.Sprintf(`"h%d-%d"`, i, j)] = answers
		}
		s.mu.Unlock()
		for j := 0; j < maxInflightPerSession; j++ {
			s.write(fmt.Sprintf(`{"jsonrpc":"2.0","id":"h%d-%d","method":"tools/call","params":{"name":"fx__hang","arguments":{}}}`, i, j))
		}
	}
	written := time.Now()
	refused := 0
	deadline := time.After(30 * time.Second)
	for refused < wantRefused {
		select {
		case a := <-answers:
			if !strings.Contains(string(a), "server fx is overloaded") {
				t.Fatalf("a call that never answers was answered: %s", a)
			}
			refused++
		case <-deadline:
			t.Fatalf("%d of %d calls refused as overloaded within 30 s", refused, wantRefused)
		}
	}
	t.Logf("%d calls refused within %s of the last write", refused, time.Since(written).Round(time.Millisecond))
	select {
	case a := <-answers:
		t.Errorf("more calls answered than the excess over the server's capacity: %s", a)
	case <-time.After(time.Second):
	}
}
