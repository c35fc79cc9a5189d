package config

// Metrics configures what `plugboard serve` serves at /metrics.
type Metrics struct {
	// ToolLabels (key metrics.tool_labels, default false) adds a metric of
	// tools/call counts labelled with each tool's name: a label whose
	// values grow with the servers' catalogs, off unless asked for.
	ToolLabels bool
}

// Keys of the metrics section.
const (
	keyMetrics    = "metrics"
	keyToolLabels = "tool_labels"
)

// decodeMetrics decodes the metrics section.
func (d *decoder) decodeMetrics(raw map[string]any) (Metrics, error) {
	var out Metrics
	v, ok := present(raw, keyMetrics)
	if !ok || v == nil {
		return out, nil
	}
	m, isMap := v.(map[string]any)
	if !isMap {
		return out, d.errorf(keyMetrics, "expected a map, got %s", typeName(v))
	}
	d.warnUnknown(keyMetrics, m, []string{keyToolLabels})
	labels, _, err := d.optBool(m, keyMetrics, keyToolLabels)
	if err != nil {
		return out, err
	}
	out.ToolLabels = labels
	return out, nil
}
