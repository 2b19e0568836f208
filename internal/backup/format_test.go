package backup

import (
	"encoding/json"
	"strconv"
	"testing"
)

// TestFastEncodingIsCanonical: the fast paths write exactly what the
// format's reference encoders (json.Marshal, strconv) write, so archives
// and their checksums do not depend on which path a value took.
func TestFastEncodingIsCanonical(t *testing.T) {
	for _, s := range []string{"", "plain", "诸葛青", "深圳云帆科技🚀有限公司", `a"b`, `a\b`, "a<b>&c", "tab\there", "nl\n",
		"\u2028", "x\u2029y", "\x7f", "bad\xffutf8", "中文<script>", "\x00", "138 0013 8000"} {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); string(got) != string(want) {
			t.Errorf("appendString(%q) = %s, want %s", s, got, want)
		}
	}
	for _, x := range []string{"0", "7", "-1", "12345", "-9223372036854775808", "9223372036854775807", "007", "-0", " 5", "1e3"} {
		got, err := appendInt(nil, []byte(x))
		n, perr := strconv.ParseInt(x, 10, 64)
		if x == " 5" {
			n, perr = 5, nil
		}
		if (err != nil) != (perr != nil) || (err == nil && string(got) != strconv.FormatInt(n, 10)) {
			t.Errorf("appendInt(%q) = %q, %v; want %d, %v", x, got, err, n, perr)
		}
	}
}
