package patch

import (
	"encoding/json"
	"testing"
)

func TestOpt(t *testing.T) {
	var in struct {
		A Opt[int64]  `json:"a"`
		B Opt[string] `json:"b"`
		C Opt[int64]  `json:"c"`
	}
	if err := json.Unmarshal([]byte(`{"a": 5, "b": null}`), &in); err != nil {
		t.Fatal(err)
	}
	if !in.A.Set || *in.A.Value != 5 || !in.B.Set || in.B.Value != nil || in.C.Set {
		t.Fatalf("%+v", in)
	}
	if err := json.Unmarshal([]byte(`{"a": "x"}`), &in); err == nil {
		t.Fatal("a wrong type was accepted")
	}
}
