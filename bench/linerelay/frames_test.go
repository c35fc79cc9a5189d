package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestFramesDownGivesIDsOfItsOwnAndTheServersNames(t *testing.T) {
	ids := &idTable{pending: map[int64]json.RawMessage{}}
	in := strings.Join([]string{
		`{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"fx__echo","arguments":{"text":"hi"}}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`not json`,
		`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"arguments":{},"name":"other__echo"}}`,
		`{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"fx\u005f_sleep"}}`,
		`{"jsonrpc":"2.0","id":9,"method":"tools/list"}`,
	}, "\n") + "\n"
	var out bytes.Buffer
	framesDown(&out, strings.NewReader(in), ids, "fx__")
	want := strings.Join([]string{
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"arguments":{},"name":"other__echo"}}`,
		`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"sleep"}}`,
		`{"jsonrpc":"2.0","id":4,"method":"tools/list"}`,
	}, "\n") + "\n"
	if out.String() != want {
		t.Errorf("the server got\n%s\nwant\n%s", out.String(), want)
	}
	for id, client := range map[int64]string{1: `"a"`, 2: `7`, 3: `8`, 4: `9`} {
		if got := string(ids.pending[id]); got != client {
			t.Errorf("id %d stands for %s, want %s", id, got, client)
		}
	}
}

func TestFramesUpAnswersWithTheClientsIDs(t *testing.T) {
	ids := &idTable{pending: map[int64]json.RawMessage{}}
	ids.issue(json.RawMessage(`"a"`))
	ids.issue(json.RawMessage(`7`))
	in := strings.Join([]string{
		`{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}`,
		`{"jsonrpc":"2.0","id":2,"error":{"code":-32602,"message":"no"}}`,
		`{"jsonrpc":"2.0","id":1,"result":{"content":[]}}`,
		`{"jsonrpc":"2.0","id":1,"result":{"late":true}}`,
	}, "\n")
	var out bytes.Buffer
	framesUp(&out, strings.NewReader(in), ids)
	want := strings.Join([]string{
		`{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}`,
		`{"jsonrpc":"2.0","id":7,"error":{"code":-32602,"message":"no"}}`,
		`{"jsonrpc":"2.0","id":"a","result":{"content":[]}}`,
	}, "\n") + "\n"
	if out.String() != want {
		t.Errorf("the client got\n%s\nwant\n%s", out.String(), want)
	}
	if len(ids.pending) != 0 {
		t.Errorf("%d ids left after their answers", len(ids.pending))
	}
}
