// Package patch holds the one type partial edits need that JSON lacks: a
// field that can be absent (leave it), null (clear it) or a value.
package patch

import "encoding/json"

// Opt is a field of a PATCH body: Set tells absent from present, and a
// present null leaves Value nil.
type Opt[T any] struct {
	Set   bool
	Value *T
}

// UnmarshalJSON implements json.Unmarshaler.
func (o *Opt[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Value = nil
		return nil
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	o.Value = &v
	return nil
}
