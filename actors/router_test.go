package actors

import (
	"encoding/json"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/plugboard/plugboard/messages"
)

// probe is an actor that hands every message it gets to a channel.
type probe chan any

func (p probe) Receive(ctx actor.Context) {
	switch ctx.Message().(type) {
	case *actor.Started, *actor.Stopping, *actor.Stopped:
	default:
		p <- ctx.Message()
	}
}

func TestFirstClientsCapabilitiesReachTheFleetWhicheverArrivesFirst(t *testing.T) {
	for _, clientFirst := range []bool{true, false} {
		system := actor.NewActorSystem()
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		router := system.Root.Spawn(newRouterProps(10, log, nil, nil))
		fleet := make(probe, 10)
		session := make(probe, 10)
		fleetPID := system.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return fleet }))
		sessionPID := system.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return session }))
		initialize := &messages.Initialize{Session: sessionPID, ClientID: json.RawMessage(`1`),
			Params: json.RawMessage(`{"protocolVersion":"2025-06-18","capabilities":{"sampling":{},"experimental":{}}}`)}
		expect := &messages.ExpectServers{Deadline: time.Now().Add(time.Second), Fleet: fleetPID}
		if clientFirst {
			system.Root.Send(router, initialize)
			system.Root.Send(router, expect)
		} else {
			system.Root.Send(router, expect)
			system.Root.Send(router, initialize)
		}
		var msg any
		select {
		case msg = <-fleet:
			if _, needed := msg.(*messages.ServersNeeded); needed { // which servers to run: not this test's
				msg = <-fleet
			}
			offer, ok := msg.(*messages.OfferCapabilities)
			if !ok || string(offer.Capabilities) != `{"sampling":{}}` {
				t.Errorf("client first %v: fleet got %#v, want the sampling capability alone", clientFirst, msg)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("client first %v: the fleet was never offered the client's capabilities", clientFirst)
		}
		system.Shutdown()
	}
}

// startRouter starts a router alone, and a probe as a client session.
func startRouter(t *testing.T) (*actor.ActorSystem, *actor.PID, probe, *actor.PID) {
	system := actor.NewActorSystem()
	t.Cleanup(system.Shutdown)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	router := system.Root.Spawn(newRouterProps(10, log, nil, nil))
	session := make(probe, 10)
	sessionPID := system.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return session }))
	return system, router, session, sessionPID
}

// TestCallToAServerStillStarting: once start-up is over, a call whose name
// carries the prefix of a server that is not ready is answered as that
// server being unavailable, not as an unknown name (issue 11).
func TestCallToAServerStillStarting(t *testing.T) {
	system, router, session, sessionPID := startRouter(t)
	system.Root.Send(router, &messages.ExpectServers{Deadline: time.Now(), Servers: []messages.ExpectedServer{
		{Name: "slow", Prefix: "slow", Enabled: true},
		{Name: "broken", Prefix: "broken", Enabled: true},
	}})
	system.Root.Send(router, &messages.ServerDown{Server: "broken", Reason: "exited with status 1"})

	tests := []struct {
		method, params string
		code           int
		message        string
	}{
		{"tools/call", `{"name":"slow__echo"}`, messages.CodeServerUnavailable, "server slow is still starting"},
		{"prompts/get", `{"name":"slow__greeting"}`, messages.CodeServerUnavailable, "server slow is still starting"},
		{"completion/complete", `{"ref":{"type":"ref/prompt","name":"slow__greeting"}}`, messages.CodeServerUnavailable, "server slow is still starting"},
		{"tools/call", `{"name":"broken__echo"}`, messages.CodeServerUnavailable, "server broken is unavailable: exited with status 1; restarting"},
		{"tools/call", `{"name":"nobody__echo"}`, messages.CodeInvalidParams, `unknown tool: "nobody__echo"`},
		{"tools/call", `{"name":"slowecho"}`, messages.CodeInvalidParams, `unknown tool: "slowecho"`},
	}
	for i, tt := range tests {
		id := json.RawMessage(strconv.Itoa(i))
		system.Root.Send(router, &messages.Route{Session: sessionPID, ClientID: id, Method: tt.method, Params: json.RawMessage(tt.params)})
		select {
		case msg := <-session:
			reply, ok := msg.(*messages.Reply)
			if !ok || reply.Error == nil || reply.Error.Code != tt.code || reply.Error.Message != tt.message {
				t.Errorf("%s %s: got %#v, want error %d %q", tt.method, tt.params, msg, tt.code, tt.message)
			} else if string(reply.ClientID) != string(id) {
				t.Errorf("%s %s: answered id %s, want %s", tt.method, tt.params, reply.ClientID, id)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s %s: no answer", tt.method, tt.params)
		}
	}
}

// Calls held while their server starts: once it is ready they reach it in
// the order they came, before calls that arrive after, though another
// server is still starting; and a held call its client cancelled never
// reaches it. (Both were seen as a session's later call running before its
// first, and a cancelled call holding a server's slot.)
// startingUpWithFx starts a router expecting two servers, fx (a probe
// that records what it is sent) and other, neither ready yet.
func startingUpWithFx(t *testing.T, other string) (system *actor.ActorSystem, router *actor.PID, fx probe, fxPID, sessionPID *actor.PID) {
	system, router, _, sessionPID = startRouter(t)
	fx = make(probe, 10)
	fxPID = system.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return fx }))
	system.Root.Send(router, &messages.ExpectServers{Deadline: time.Now().Add(time.Minute), Servers: []messages.ExpectedServer{
		{Name: "fx", Prefix: "fx", Enabled: true},
		{Name: other, Prefix: other, Enabled: true},
	}})
	return system, router, fx, fxPID, sessionPID
}

// fxReady says fx is ready, with one tool, echo.
func fxReady(fxPID *actor.PID) *messages.ServerReady {
	var lists messages.ServerLists
	lists[messages.Tools] = []json.RawMessage{json.RawMessage(`{"name":"echo","inputSchema":{"type":"object"}}`)}
	return &messages.ServerReady{Server: "fx", PID: fxPID, Incarnation: 1, Lists: lists}
}

func TestHeldCallsKeepTheirOrderAndTheirCancellation(t *testing.T) {
	system, router, fx, fxPID, sessionPID := startingUpWithFx(t, "gx")
	call := func(id int) *messages.Route {
		return &messages.Route{Session: sessionPID, ClientID: json.RawMessage(strconv.Itoa(id)), Method: "tools/call",
			Params: json.RawMessage(`{"name":"fx__echo"}`)}
	}
	for id := 1; id <= 3; id++ {
		system.Root.Send(router, call(id)) // held: fx is starting
	}
	first := call(1)
	system.Root.Send(router, &messages.CancelRequest{Session: sessionPID, ClientID: first.ClientID, Method: first.Method, Params: first.Params})
	system.Root.Send(router, fxReady(fxPID))
	system.Root.Send(router, call(4)) // gx is still starting
	var got []string
	for len(got) < 3 {
		select {
		case msg := <-fx:
			if f, ok := msg.(*messages.Forward); ok {
				got = append(got, string(f.ClientID))
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("fx got calls %v, then nothing", got)
		}
	}
	if strings.Join(got, " ") != "2 3 4" {
		t.Errorf("fx got calls %v, want 2 3 4: the cancelled one left out, the held ones first", got)
	}
	select {
	case msg := <-fx:
		t.Errorf("fx got more: %#v", msg)
	case <-time.After(100 * time.Millisecond):
	}
}

// A call held while its server starts goes to it once that server is
// ready, though another server is still starting and nothing else reaches
// the router: it used to wait for the slowest server, up to the start-up
// timeout.
func TestAHeldCallGoesAsSoonAsItsServerIsReady(t *testing.T) {
	system, router, fx, fxPID, sessionPID := startingUpWithFx(t, "slow")
	system.Root.Send(router, &messages.Route{Session: sessionPID, ClientID: json.RawMessage(`7`), Method: "tools/call",
		Params: json.RawMessage(`{"name":"fx__echo"}`)})
	system.Root.Send(router, fxReady(fxPID))
	for {
		select {
		case msg := <-fx:
			if f, ok := msg.(*messages.Forward); ok {
				if string(f.ClientID) != "7" {
					t.Fatalf("fx got call %s, want 7", f.ClientID)
				}
				return
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the held call did not reach fx, which is ready, while slow is starting")
		}
	}
}
