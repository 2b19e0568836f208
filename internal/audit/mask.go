package audit

import (
	"encoding/json"

	"github.com/dingcrm/crm/internal/auth"
)

// maskedFields maps an entity's audited field to the field-visibility code
// that governs it, so the before/after of a change shows a value only as the
// reader may see it on the record itself.
var maskedFields = map[string]map[string]string{
	"customer":    {"phone": "customer.phone", "address": "customer.address"},
	"contact":     {"phones": "contact.phone", "email": "contact.email", "wechat": "contact.wechat"},
	"sale":        {"amount_fen": "sale.amount"},
	"opportunity": {"amount_fen": "opportunity.amount"},
}

// MaskItems applies a's field policy to the before and after of each entry.
func MaskItems(a *auth.Actor, items []Item) {
	if a == nil || len(a.Fields) == 0 {
		return
	}
	for i := range items {
		fields := maskedFields[items[i].Entity]
		for name, ch := range items[i].Changes {
			if f, ok := fields[name]; ok && !a.Fields.Visible(f) {
				items[i].Changes[name] = Change{Old: maskAny(a.Fields, f, ch.Old), New: maskAny(a.Fields, f, ch.New)}
			}
		}
	}
}

// maskAny masks a logged value: a string, a list of strings or a number.
func maskAny(p auth.FieldPolicy, field string, v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return p.Mask(field, x)
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				if m := p.Mask(field, s); m != "" {
					out = append(out, m)
				}
			}
		}
		return out
	default:
		b, _ := json.Marshal(x)
		return p.Mask(field, string(b))
	}
}
