package actors

import (
	"encoding/json"
	"io"
	"log/slog"
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
		router := system.Root.Spawn(newRouterProps(10, log, nil))
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
