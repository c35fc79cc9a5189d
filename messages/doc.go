// Package messages holds the messages plugboard's actors exchange: plain
// structs, immutable once sent, grouped by concern. It holds no behaviour.
package messages
