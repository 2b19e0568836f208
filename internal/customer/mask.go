package customer

import "github.com/dingcrm/crm/internal/auth"

// Field visibility (字段权限): a role may see a customer's phone or address
// masked or not at all. Masking is applied where customers leave the
// service (lists, details, search, exports), never to what is stored.

// The customer fields a role can restrict.
const (
	FieldPhone   = "customer.phone"
	FieldAddress = "customer.address"
)

// Mask shows c as a may see it.
func Mask(a *auth.Actor, c *Customer) {
	if a == nil || c == nil || len(a.Fields) == 0 {
		return
	}
	c.Phone = a.Fields.Mask(FieldPhone, c.Phone)
	c.Address = a.Fields.Mask(FieldAddress, c.Address)
}

// MaskAll masks every customer of a list.
func MaskAll(a *auth.Actor, cs []Customer) {
	for i := range cs {
		Mask(a, &cs[i])
	}
}

// keepUnseen leaves a restricted field alone when an edit sends back
// exactly what a was shown (a form re-submitting 138****1234), so saving
// an unrelated change never overwrites the real value with its mask.
func keepUnseen(a *auth.Actor, c *Customer, in *Input) {
	if a == nil {
		return
	}
	if in.Phone != nil && !a.Fields.Visible(FieldPhone) && *in.Phone == a.Fields.Mask(FieldPhone, c.Phone) {
		in.Phone = nil
	}
	if in.Address != nil && !a.Fields.Visible(FieldAddress) && *in.Address == a.Fields.Mask(FieldAddress, c.Address) {
		in.Address = nil
	}
}

// searchesPhones reports whether a's keyword search may match phone digits
// (customer's and contacts'): not when either is masked or hidden, or the
// hit itself would reveal the number.
func searchesPhones(a *auth.Actor) bool {
	return a == nil || a.Fields.Visible(FieldPhone) && a.Fields.Visible("contact.phone")
}
