package actors

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/plugboard/plugboard/messages"
	"github.com/plugboard/plugboard/transports"
)

// What a server sends on its own: notifications, and requests to its
// client. Progress goes to the session whose call it belongs to; logs and
// resource updates to the router, which knows the sessions; requests to
// the session the server is serving.

// notified handles a notification the server sent on its own.
func (s *serverActor) notified(ctx actor.Context, msg *downstreamNotification) {
	switch msg.method {
	case "notifications/progress":
		s.progressed(ctx, msg.params)
	case "notifications/message":
		s.logged(ctx, msg.params)
	case "notifications/resources/updated":
		if uri := requestURI(msg.params); uri != "" { // by its exact name, as clients read it
			s.tell(ctx, &messages.ServerNotification{Server: s.cfg.Name, Method: msg.method, Params: msg.params, URI: uri})
		}
	case "notifications/cancelled":
		s.cancelledQuestion(ctx, msg.params)
	case "notifications/subscriptions/acknowledged":
		s.listenAcknowledged(ctx, msg.params)
	case "notifications/tools/list_changed":
		s.refetch(ctx, messages.Tools)
	case "notifications/prompts/list_changed":
		s.refetch(ctx, messages.Prompts)
	case "notifications/resources/list_changed":
		s.refetch(ctx, messages.Resources, messages.ResourceTemplates)
	default:
		s.log.Debug("notification ignored", "method", msg.method)
	}
}

func (s *serverActor) progressed(ctx actor.Context, params json.RawMessage) {
	var v [1]json.RawMessage
	if transports.ReadMembers(params, metaMembers, v[:]) != nil {
		return // not one token, read as the client would
	}
	var token string
	if json.Unmarshal(v[0], &token) != nil {
		return // plugboard's tokens are strings
	}
	route, ok := s.progress[token]
	if !ok {
		return // the call is over or was never ours
	}
	out, err := replaceField(params, "progressToken", route.clientToken)
	if err != nil {
		return
	}
	ctx.Send(route.session, &messages.Notify{Method: "notifications/progress", Params: out, RelatedTo: route.clientID})
}

// logged tags a log message with the server's name and passes it on.
func (s *serverActor) logged(ctx actor.Context, params json.RawMessage) {
	var p struct {
		Logger string `json:"logger"`
	}
	_ = json.Unmarshal(params, &p) // a message without a logger gets the server's name
	logger := s.cfg.Name
	if p.Logger != "" && p.Logger != s.cfg.Name {
		logger = s.cfg.Name + "/" + p.Logger
	}
	out, err := setField(params, "logger", quoteJSON(logger))
	if err != nil {
		return
	}
	// A message logged while one session's calls are running is most
	// likely about them: that session gets it straight away, so that it
	// arrives before their answers; the router gives it to the others.
	only := s.onlyCaller()
	if only != nil {
		ctx.Send(only, &messages.Notify{Method: "notifications/message", Params: out, RelatedTo: s.onlyCallOf(only)})
	}
	s.tell(ctx, &messages.ServerNotification{Server: s.cfg.Name, Method: "notifications/message", Params: out, Except: only})
}

// refetch fetches the lists of the given kinds again, from a goroutine,
// after the server said they changed.
func (s *serverActor) refetch(ctx actor.Context, kinds ...messages.Kind) {
	if s.conn == nil {
		return // the lists are fetched once the handshake is done anyway
	}
	var which [numKinds]bool
	for _, k := range kinds {
		which[k] = true
	}
	conn, root, self, inc, timeout := s.conn, s.root, s.self, s.incarnation, s.cfg.Timeout
	go func() {
		fetchCtx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		var lists messages.ServerLists
		for k, want := range which {
			if !want {
				continue
			}
			items, err := fetchList(fetchCtx, conn, messages.Kind(k))
			if err != nil {
				which[k] = false
				s.log.Warn("refreshing list failed", "list", listKeys[k], "err", err)
				continue
			}
			lists[k] = items
		}
		root.Send(self, &listsFetched{incarnation: inc, which: which, lists: lists})
	}()
}

// askClient is the connection's handler for the server's requests to its
// client: it posts the request to the actor and waits for the answer.
func (s *serverActor) askClient(ctx context.Context, inc uint64, id json.RawMessage, method string, params json.RawMessage) (json.RawMessage, *messages.RPCError) {
	answer := make(chan *messages.ClientAnswer, 1)
	token := strconv.FormatUint(inc, 10) + "/" + string(id)
	s.root.Send(s.self, &downstreamRequest{incarnation: inc, token: token, id: id, method: method, params: params, answer: answer})
	timer := time.NewTimer(s.cfg.Timeout)
	defer timer.Stop()
	select {
	case a := <-answer:
		return a.Result, a.Error
	case <-timer.C:
		s.root.Send(s.self, &questionAbandoned{incarnation: inc, token: token})
		return nil, &messages.RPCError{Code: messages.CodeServerUnavailable, Message: fmt.Sprintf("the client did not answer %s within %s", method, s.cfg.Timeout)}
	case <-ctx.Done():
		s.root.Send(s.self, &questionAbandoned{incarnation: inc, token: token})
		return nil, &messages.RPCError{Code: messages.CodeInternalError, Message: "connection closing"}
	}
}

// asks re-issues a server's request to the client session it concerns:
// the only session with calls in flight here, else the latest caller.
func (s *serverActor) asks(ctx actor.Context, msg *downstreamRequest) {
	session := s.askedSession()
	if session == nil {
		msg.answer <- &messages.ClientAnswer{Error: &messages.RPCError{Code: messages.CodeInternalError,
			Message: fmt.Sprintf("plugboard has no client session to send %s to", msg.method)}}
		return
	}
	s.asked[msg.token] = &pendingQuestion{session: session, downstreamID: msg.id, answer: msg.answer}
	ctx.Send(session, &messages.ClientRequest{Method: msg.method, Params: msg.params, ReplyTo: ctx.Self(), Token: msg.token,
		RelatedTo: s.onlyCallOf(session)})
}

func (s *serverActor) askedSession() *actor.PID {
	if s.owner != nil {
		return s.owner // a session's own instance asks its session alone
	}
	if only := s.onlyCaller(); only != nil {
		return only
	}
	return s.caller
}

// onlyCaller is the one session with calls in flight here, or nil when
// there are none or several.
func (s *serverActor) onlyCaller() *actor.PID {
	var only *actor.PID
	for _, p := range s.inflight {
		if p.session == nil {
			continue
		}
		if only == nil {
			only = p.session
		} else if !only.Equal(p.session) {
			return nil
		}
	}
	return only
}

// onlyCallOf is the client's id of session's one call in flight here, or
// nil when it has none or several: a server's request or log message
// while it runs is most likely about it.
func (s *serverActor) onlyCallOf(session *actor.PID) json.RawMessage {
	var id json.RawMessage
	for _, p := range s.inflight {
		if p.session == nil || !p.session.Equal(session) {
			continue
		}
		if id != nil {
			return nil
		}
		id = p.clientID
	}
	return id
}

// answered passes a client's answer back to the waiting connection.
func (s *serverActor) answered(msg *messages.ClientAnswer) {
	q, ok := s.asked[msg.Token]
	if !ok {
		return
	}
	delete(s.asked, msg.Token)
	q.answer <- msg
}

func (s *serverActor) abandoned(ctx actor.Context, token string) {
	q, ok := s.asked[token]
	if !ok {
		return
	}
	delete(s.asked, token)
	ctx.Send(q.session, &messages.ClientCancelled{Token: token})
}

// cancelledQuestion handles the server withdrawing one of its requests.
func (s *serverActor) cancelledQuestion(ctx actor.Context, params json.RawMessage) {
	id := field(params, "requestId")
	if id == nil {
		return
	}
	token := strconv.FormatUint(s.incarnation, 10) + "/" + string(id)
	q, ok := s.asked[token]
	if !ok {
		return
	}
	delete(s.asked, token)
	ctx.Send(q.session, &messages.ClientCancelled{Token: token})
	q.answer <- &messages.ClientAnswer{Error: &messages.RPCError{Code: messages.CodeInternalError, Message: "cancelled by the server"}}
}

// refuseQuestions answers every waiting server-to-client request.
func (s *serverActor) refuseQuestions(reason string) {
	for token, q := range s.asked {
		delete(s.asked, token)
		q.answer <- &messages.ClientAnswer{Error: &messages.RPCError{Code: messages.CodeInternalError, Message: reason}}
	}
}
