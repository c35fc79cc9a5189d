package main

import (
	"context"
	"encoding/json"
	"slices"
)

// logLevels are the syslog severities MCP uses, least severe first.
var logLevels = []string{"debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"}

// logLevelRank is the position of level in logLevels.
func logLevelRank(level string) (int, bool) {
	i := slices.Index(logLevels, level)
	return i, i >= 0
}

func (s *session) setLogLevel(params json.RawMessage) (any, error) {
	var p struct {
		Level string `json:"level"`
	}
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	rank, ok := logLevelRank(p.Level)
	if !ok {
		return nil, invalidParams("unknown log level %q", p.Level)
	}
	s.mu.Lock()
	s.logLevel = rank
	s.mu.Unlock()
	return struct{}{}, nil
}

type logMessageParams struct {
	Level  string `json:"level"`
	Logger string `json:"logger"`
	Data   any    `json:"data"`
}

// sendLog sends notifications/message about the request ctx belongs to,
// unless level is below the one the client set. A legacy session gets
// everything until it sets a level with logging/setLevel; a 2026-07-28
// request gets nothing unless its _meta sets one.
func (s *session) sendLog(ctx context.Context, level string, data any) {
	rank, _ := logLevelRank(level)
	var threshold int
	if m, ok := modernOf(ctx); ok {
		if m.logLevel == "" {
			return
		}
		threshold, _ = logLevelRank(m.logLevel)
	} else {
		s.mu.Lock()
		threshold = s.logLevel
		s.mu.Unlock()
	}
	if rank < threshold {
		return
	}
	s.notify(ctx, "notifications/message", logMessageParams{Level: level, Logger: s.cfg.name, Data: data})
}
