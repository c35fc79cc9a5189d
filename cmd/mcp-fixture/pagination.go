package main

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
)

// listParams are the params of every paginated list method.
type listParams struct {
	Cursor string `json:"cursor"`
}

// paginate returns the page of items that cursor points at and the cursor
// of the next page ("" on the last page). kind names the list so that a
// cursor from tools/list is rejected by prompts/list. A pageSize of 0
// returns everything at once.
func paginate[T any](items []T, kind, cursor string, pageSize int) (page []T, next string, err error) {
	offset := 0
	if cursor != "" {
		offset, err = decodeCursor(kind, cursor)
		if err != nil {
			return nil, "", err
		}
	}
	if pageSize <= 0 {
		return items[min(offset, len(items)):], "", nil
	}
	// The list may have shrunk since the cursor was issued.
	start := min(offset, len(items))
	end := min(start+pageSize, len(items))
	if end < len(items) {
		next = encodeCursor(kind, end)
	}
	return items[start:end], next, nil
}

func encodeCursor(kind string, offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + strconv.Itoa(offset)))
}

func decodeCursor(kind, cursor string) (int, error) {
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return 0, invalidParams("invalid cursor %q", cursor)
	}
	rest, ok := strings.CutPrefix(string(raw), kind+":")
	if !ok {
		return 0, invalidParams("invalid cursor %q for %s", cursor, kind)
	}
	offset, err := strconv.Atoi(rest)
	if err != nil || offset < 0 {
		return 0, invalidParams("invalid cursor %q", cursor)
	}
	return offset, nil
}

// listPage decodes the params of a list request and pages items.
func listPage[T any](params json.RawMessage, kind string, items []T, pageSize int) ([]T, string, error) {
	var p listParams
	if err := decodeParams(params, &p); err != nil {
		return nil, "", err
	}
	return paginate(items, kind, p.Cursor, pageSize)
}
