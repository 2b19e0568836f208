package excel

import (
	"reflect"
	"testing"
)

// TestNeutralize: a cell that a spreadsheet would read as a formula is
// written as text (a leading single quote), and the import takes the quote
// off again, so an export imports back unchanged.
func TestNeutralize(t *testing.T) {
	tests := []struct{ in, out string }{
		{`=HYPERLINK("http://x","y")`, `'=HYPERLINK("http://x","y")`},
		{"+86 139", "'+86 139"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"},
		{"张三", "张三"},
		{"a=b", "a=b"},
		{"", ""},
		{"'quoted", "'quoted"},
	}
	for _, tt := range tests {
		if got := neutralize(tt.in); got != tt.out {
			t.Errorf("neutralize(%q) = %q, want %q", tt.in, got, tt.out)
		}
		if back := unquote(neutralize(tt.in)); back != tt.in {
			t.Errorf("unquote(neutralize(%q)) = %q", tt.in, back)
		}
	}
}

func TestSplitTagsAndNormalize(t *testing.T) {
	tags := []struct {
		in   string
		want []string
	}{
		{"重点，展会", []string{"重点", "展会"}},
		{"a, b;c、d；e", []string{"a", "b", "c", "d", "e"}},
		{" , ", []string{}},
		{"老 客户", []string{"老 客户"}},
	}
	for _, tt := range tags {
		if got := splitTags(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("splitTags(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	same := [][2]string{{"A – key account", "a-key account"}, {" 客户名称* ", "客户名称"}, {"Customer Name", "customername"}}
	for _, p := range same {
		if normalize(p[0]) != normalize(p[1]) {
			t.Errorf("normalize(%q) = %q, normalize(%q) = %q", p[0], normalize(p[0]), p[1], normalize(p[1]))
		}
	}
}
