package transports

import "testing"

// routeNow hands a frame to its stream without waiting, and leaves
// everything as it was when the stream's channel is full, so that the
// frame can take the session's queue instead.
func TestRouteNowNeverWaitsAndTakesNothingWhenItCannot(t *testing.T) {
	s := newHTTPSession("s", kindStreamable, nil)
	call := newStream()
	if !s.addPOST([]byte("1"), call) {
		t.Fatal("addPOST refused a fresh id")
	}
	for i := range cap(call.frames) { // progress of call 1 fills its stream
		if !s.routeNow(Outbound{Frame: []byte(`{"n":1}`), RelatedTo: []byte("1")}) {
			t.Fatalf("progress %d refused with room on the stream", i)
		}
	}
	answer := Outbound{Frame: []byte(`{"id":1,"result":{}}`), ResponseTo: []byte("1")}
	if s.routeNow(answer) {
		t.Fatal("routeNow took the answer with the stream full")
	}
	if s.waiting["1"] != call {
		t.Fatal("a refused answer stopped its stream waiting")
	}
	<-call.frames
	if !s.routeNow(answer) {
		t.Fatal("routeNow refused the answer with room on the stream")
	}
	if _, waiting := s.waiting["1"]; waiting {
		t.Error("the stream still waits after its answer")
	}
	for len(call.frames) > 1 {
		<-call.frames
	}
	if f := <-call.frames; !f.final || string(f.data) != string(answer.Frame) {
		t.Errorf("last frame %s (final %v), want the answer, final", f.data, f.final)
	}
	// With no stream open, a notification is kept for the next one.
	s.remove(call, []byte("1"))
	if !s.routeNow(Outbound{Frame: []byte(`{"note":1}`)}) || len(s.takeBacklog()) != 1 {
		t.Error("a notification with no stream open was not kept")
	}
}
