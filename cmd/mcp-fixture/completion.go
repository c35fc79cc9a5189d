package main

import (
	"encoding/json"
	"strings"
)

// completionCandidates are the values completion/complete offers for one
// argument of a prompt (ref/prompt, by name) or of a resource template
// (ref/resource, by URI template); nil when the fixture knows none.
func completionCandidates(serverName, refType, ref, argument string) []string {
	type key struct{ refType, ref, argument string }
	switch (key{refType, ref, argument}) {
	case key{"ref/prompt", "greeting", "name"}:
		return []string{"alice", "bob", "carol"}
	case key{"ref/prompt", "test_prompt_with_arguments", "arg1"},
		key{"ref/prompt", "test_prompt_with_arguments", "arg2"}:
		return []string{"paris", "park", "party"}
	case key{"ref/resource", "fixture://" + serverName + "/items/{id}", "id"}:
		return []string{"1", "2", "3"}
	case key{"ref/resource", "test://template/{id}/data", "id"}:
		return []string{"1", "2", "3", "123"}
	}
	return nil
}

type completion struct {
	Values  []string `json:"values"`
	Total   int      `json:"total"`
	HasMore bool     `json:"hasMore"`
}

type completeResult struct {
	Completion completion `json:"completion"`
}

func (s *session) complete(params json.RawMessage) (any, error) {
	var p struct {
		Ref struct {
			Type string `json:"type"`
			Name string `json:"name"`
			URI  string `json:"uri"`
		} `json:"ref"`
		Argument struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"argument"`
	}
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	var ref string
	switch p.Ref.Type {
	case "ref/prompt":
		ref = p.Ref.Name
	case "ref/resource":
		ref = p.Ref.URI
	default:
		return nil, invalidParams("unknown completion ref type %q", p.Ref.Type)
	}
	values := []string{}
	for _, v := range completionCandidates(s.cfg.name, p.Ref.Type, ref, p.Argument.Name) {
		if strings.HasPrefix(v, p.Argument.Value) {
			values = append(values, v)
		}
	}
	return completeResult{Completion: completion{Values: values, Total: len(values)}}, nil
}
