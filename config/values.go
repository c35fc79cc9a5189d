package config

import (
	"fmt"
	"math"
	"path"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// optString returns the string at m[k], whether it is set, and an error
// when it is set to something other than a string.
func (d *decoder) optString(m map[string]any, parent, k string) (string, bool, error) {
	v, ok := present(m, k)
	if !ok {
		return "", false, nil
	}
	s, isString := v.(string)
	if !isString {
		return "", false, d.errorf(join(parent, k), "expected a string, got %s", typeName(v))
	}
	return s, true, nil
}

// optBool returns the bool at m[k] and whether it is set.
func (d *decoder) optBool(m map[string]any, parent, k string) (bool, bool, error) {
	v, ok := present(m, k)
	if !ok {
		return false, false, nil
	}
	b, isBool := v.(bool)
	if !isBool {
		return false, false, d.errorf(join(parent, k), "expected true or false, got %s", typeName(v))
	}
	return b, true, nil
}

// optStringList returns the list of strings at m[k], nil when unset or
// empty. With expand, numbers and bools are taken as their text and every
// entry has its ${VAR}s expanded; without, entries must be strings.
func (d *decoder) optStringList(m map[string]any, parent, k string, expand bool) ([]string, error) {
	key := join(parent, k)
	v, ok := present(m, k)
	if !ok {
		return nil, nil
	}
	list, isList := v.([]any)
	if !isList {
		return nil, d.errorf(key, "expected a list of strings, got %s", typeName(v))
	}
	var out []string
	for i, item := range list {
		itemKey := fmt.Sprintf("%s[%d]", key, i)
		var s string
		var ok bool
		if expand {
			s, ok = toScalarString(item)
		} else {
			s, ok = item.(string)
		}
		if !ok {
			return nil, d.errorf(itemKey, "expected a string, got %s", typeName(item))
		}
		if expand {
			var err error
			if s, err = d.expand(itemKey, s); err != nil {
				return nil, err
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// optStringMap returns the map of strings at m[k], nil when unset or
// empty, with numbers and bools taken as their text and ${VAR}s in the
// values expanded.
func (d *decoder) optStringMap(m map[string]any, parent, k string) (map[string]string, error) {
	key := join(parent, k)
	v, ok := present(m, k)
	if !ok {
		return nil, nil
	}
	raw, isMap := v.(map[string]any)
	if !isMap {
		return nil, d.errorf(key, "expected a map of names to strings, got %s", typeName(v))
	}
	if len(raw) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(raw))
	for _, name := range sortedKeys(raw) {
		itemKey := join(key, name)
		s, ok := toScalarString(raw[name])
		if !ok {
			return nil, d.errorf(itemKey, "expected a string, got %s", typeName(raw[name]))
		}
		expanded, err := d.expand(itemKey, s)
		if err != nil {
			return nil, err
		}
		out[name] = expanded
	}
	return out, nil
}

// optFilter returns the filter at m[k]: a map with include and exclude
// lists of globs.
func (d *decoder) optFilter(m map[string]any, parent, k string) (Filter, error) {
	key := join(parent, k)
	v, ok := present(m, k)
	if !ok {
		return Filter{}, nil
	}
	raw, isMap := v.(map[string]any)
	if !isMap {
		return Filter{}, d.errorf(key, "expected a map with include and/or exclude lists, got %s", typeName(v))
	}
	d.warnUnknown(key, raw, []string{"include", "exclude"})
	var f Filter
	var err error
	if f.Include, err = d.optGlobs(raw, key, "include"); err != nil {
		return Filter{}, err
	}
	if f.Exclude, err = d.optGlobs(raw, key, "exclude"); err != nil {
		return Filter{}, err
	}
	return f, nil
}

// optGlobs returns the list of globs at m[k], each checked for syntax.
func (d *decoder) optGlobs(m map[string]any, parent, k string) ([]string, error) {
	globs, err := d.optStringList(m, parent, k, false)
	if err != nil {
		return nil, err
	}
	for i, g := range globs {
		if _, err := path.Match(g, ""); err != nil {
			return nil, d.errorf(fmt.Sprintf("%s[%d]", join(parent, k), i), "invalid glob %q: %v", g, err)
		}
	}
	return globs, nil
}

// typeName names v's type the way a config file's author thinks of it.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a bool"
	case []any:
		return "a list"
	case map[string]any:
		return "a map"
	case time.Time:
		return "a date"
	}
	switch reflect.ValueOf(v).Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map:
		return "a map"
	}
	return fmt.Sprintf("a %T", v)
}

// toFloat returns v as a float64 when it is a number of any Go type.
func toFloat(v any) (float64, bool) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(rv.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return float64(rv.Uint()), true
	case reflect.Float32, reflect.Float64:
		return rv.Float(), true
	}
	return 0, false
}

// toInt decodes a whole number: a number of any Go type (JSON gives float64)
// or, as environment variables give it, a decimal string. It returns a
// problem description instead of an error so the caller can add the key.
func toInt(v any) (int, string) {
	if s, ok := v.(string); ok {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return 0, fmt.Sprintf("expected a whole number, got %q", s)
		}
		return n, ""
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if n := rv.Int(); n >= math.MinInt && n <= math.MaxInt {
			return int(n), ""
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if n := rv.Uint(); n <= math.MaxInt {
			return int(n), ""
		}
	case reflect.Float32, reflect.Float64:
		f := rv.Float()
		if f != math.Trunc(f) {
			return 0, fmt.Sprintf("expected a whole number, got %v", f)
		}
		if f >= math.MinInt && f < math.MaxInt {
			return int(f), ""
		}
	default:
		return 0, fmt.Sprintf("expected a whole number, got %s", typeName(v))
	}
	return 0, fmt.Sprintf("number %v is too large", v)
}

// toDuration decodes a duration: a Go duration string ("60s", "1m30s"), a
// number of seconds (Cline writes "timeout": 60), a string holding a number
// of seconds (as environment variables give it), or a time.Duration (as a
// duration flag gives it).
func toDuration(v any) (time.Duration, string) {
	switch t := v.(type) {
	case time.Duration:
		return t, ""
	case string:
		s := strings.TrimSpace(t)
		if d, err := time.ParseDuration(s); err == nil {
			return d, ""
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			if d, ok := seconds(f); ok {
				return d, ""
			}
		}
		return 0, fmt.Sprintf("invalid duration %q", t)
	}
	if f, ok := toFloat(v); ok {
		if d, ok := seconds(f); ok {
			return d, ""
		}
		return 0, fmt.Sprintf("invalid duration: %v seconds is out of range", v)
	}
	return 0, fmt.Sprintf("expected a duration such as \"30s\" or a number of seconds, got %s", typeName(v))
}

// seconds converts a number of seconds to a duration, reporting whether
// it is one.
func seconds(f float64) (time.Duration, bool) {
	ns := f * float64(time.Second)
	if math.IsNaN(ns) || ns >= math.MaxInt64 || ns < math.MinInt64 {
		return 0, false
	}
	return time.Duration(ns), true
}

// toScalarString decodes a string, accepting numbers and bools as their
// text, which is what YAML authors mean by `PORT: 8080` in an env map.
func toScalarString(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case bool:
		return strconv.FormatBool(t), true
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64), true
	case float32:
		return strconv.FormatFloat(float64(t), 'f', -1, 32), true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(rv.Int(), 10), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(rv.Uint(), 10), true
	}
	return "", false
}
