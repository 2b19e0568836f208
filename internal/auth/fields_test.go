package auth

import "testing"

func TestFieldPolicyMask(t *testing.T) {
	p := FieldPolicy{"customer.phone": FieldMasked, "contact.email": FieldMasked, "customer.address": FieldHidden,
		"sale.amount": FieldMasked, "contact.wechat": FieldMasked}
	tests := []struct{ field, in, want string }{
		{"customer.phone", "13812341234", "138****1234"},
		{"customer.phone", "021-68888888", "021****8888"},
		{"customer.phone", "12345", "1****5"},
		{"customer.phone", "", ""},
		{"contact.email", "alice@x.com", "a***@x.com"},
		{"contact.email", "张三@例子.中国", "张***@例子.中国"},
		{"customer.address", "杭州市西湖区", ""},
		{"sale.amount", "12345.67", "***"},
		{"contact.wechat", "wx_alice", "w***"},
		{"contact.phone", "13812341234", "13812341234"}, // not in the policy: visible
		{"customer.name", "张三", "张三"},
	}
	for _, tc := range tests {
		if got := p.Mask(tc.field, tc.in); got != tc.want {
			t.Errorf("Mask(%s, %q) = %q, want %q", tc.field, tc.in, got, tc.want)
		}
	}
	if got := p.MaskList("customer.phone", []string{"13812341234", "13912345678"}); len(got) != 2 || got[1] != "139****5678" {
		t.Errorf("MaskList: %v", got)
	}
	var none FieldPolicy
	if none.Mask("customer.phone", "13812341234") != "13812341234" {
		t.Error("a nil policy shows everything")
	}
}

func TestMostPermissive(t *testing.T) {
	hidden := FieldPolicy{"customer.phone": FieldHidden, "sale.amount": FieldHidden}
	masked := FieldPolicy{"customer.phone": FieldMasked}
	got := MostPermissive([]FieldPolicy{hidden, masked})
	if got.Mode("customer.phone") != FieldMasked || got.Mode("sale.amount") != FieldVisible {
		t.Errorf("hidden+masked: %v", got)
	}
	if got := MostPermissive([]FieldPolicy{hidden}); got.Mode("sale.amount") != FieldHidden {
		t.Errorf("one role: %v", got)
	}
	if got := ParseFieldPolicy(`{"customer.phone":"masked","bogus.field":"hidden","sale.amount":"weird","contact.email":"visible"}`); len(got) != 1 {
		t.Errorf("parse drops unknown fields, modes and visible: %v", got)
	}
	if s := FormatFieldPolicy(FieldPolicy{"customer.phone": FieldMasked, "contact.email": FieldVisible}); s != `{"customer.phone":"masked"}` {
		t.Errorf("format: %s", s)
	}
}
