package ui

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func status(servers, sessions string) json.RawMessage {
	return json.RawMessage(`{"servers":[` + servers + `],"sessions":[` + sessions + `]}`)
}

func TestHistoryTellsWhatChanged(t *testing.T) {
	ready := `{"name":"alpha","state":"ready","restarts":0}`
	cases := []struct {
		name                string
		before, after       json.RawMessage
		catBefore, catAfter string
		wsBefore, wsAfter   string
		want                []string
	}{
		{name: "nothing", before: status(ready, ""), after: status(ready, ""), want: nil},
		{name: "a crash and its restart",
			before: status(ready, ""),
			after:  status(`{"name":"alpha","state":"ready","restarts":1,"last_failure":"exited with status 3"}`, ""),
			want:   []string{"alpha restarted (1 restarts); now ready; it failed: exited with status 3"}},
		{name: "a state change",
			before: status(ready, ""),
			after:  status(`{"name":"alpha","state":"failed","restarts":0,"last_failure":"no such command"}`, ""),
			want:   []string{"alpha: ready → failed: no such command"}},
		{name: "servers added and removed",
			before: status(ready, ""),
			after:  status(`{"name":"beta","state":"starting"}`, ""),
			want:   []string{"beta added (starting)", "alpha removed"}},
		{name: "sessions",
			before: status(ready, `{"transport":"socket","client_name":"cline"}`),
			after:  status(ready, `{"transport":"streamable-http","client_name":"cursor","workspace":"dev"}`),
			want:   []string{"session closed: cline over socket", "session opened: cursor over streamable-http in workspace dev"}},
		{name: "tools and workspace",
			before: status(ready, ""), after: status(ready, ""),
			catBefore: `{"tools":[{"name":"a__x","disabled":true},{"name":"a__y"}]}`,
			catAfter:  `{"tools":[{"name":"a__x"},{"name":"a__y","disabled":true}]}`,
			wsBefore:  `{"default":""}`, wsAfter: `{"default":"dev"}`,
			want: []string{"tool a__x enabled", "tool a__y disabled", "default workspace now dev"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			or := func(s, def string) json.RawMessage {
				if s == "" {
					return json.RawMessage(def)
				}
				return json.RawMessage(s)
			}
			got := changes(observe(c.before, or(c.catBefore, `{}`), or(c.wsBefore, `{}`)), observe(c.after, or(c.catAfter, `{}`), or(c.wsAfter, `{}`)))
			var texts []string
			for _, a := range got {
				texts = append(texts, a.Text)
			}
			if strings.Join(texts, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(texts, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}

func TestHistoryKeepsTheLastMinutesNewestFirst(t *testing.T) {
	h := newHistory()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	empty := json.RawMessage(`{}`)
	h.observe(start, status("", ""), empty, empty, nil)
	h.observe(start.Add(time.Second), status(`{"name":"a","state":"ready"}`, ""), empty, empty, nil)
	_, act := h.observe(start.Add(2*time.Second), status(`{"name":"a","state":"ready"},{"name":"b","state":"ready"}`, ""), empty, empty, nil)
	if len(act) != 2 || act[0].Text != "b added (ready)" || act[1].Text != "a added (ready)" {
		t.Fatalf("activity %+v", act)
	}
	_, act = h.observe(start.Add(activityWindow+1500*time.Millisecond), status(`{"name":"a","state":"ready"},{"name":"b","state":"ready"}`, ""), empty, empty, nil)
	if len(act) != 1 || act[0].Text != "b added (ready)" {
		t.Fatalf("after the window, activity %+v", act)
	}
}

func TestHistoryRatesFromCounts(t *testing.T) {
	h := newHistory()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	empty := json.RawMessage(`{}`)
	if rates, _ := h.observe(start, empty, empty, empty, nil); rates != nil {
		t.Fatalf("rates without traffic: %v", rates)
	}
	h.observe(start, empty, empty, empty, map[string]TrafficCounts{"a": {Calls: 10, Errors: 1, LatencySum: 100 * time.Millisecond}})
	rates, _ := h.observe(start.Add(2*time.Second), empty, empty, empty, map[string]TrafficCounts{"a": {Calls: 30, Errors: 3, LatencySum: 300 * time.Millisecond}})
	r := rates["a"]
	if r.CallsPerSecond != 10 || r.ErrorsPerSecond != 1 || r.MeanLatencyMS != 10 || r.Calls != 30 {
		t.Errorf("rates %+v", r)
	}
}
