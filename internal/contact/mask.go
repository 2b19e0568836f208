package contact

import (
	"context"
	"slices"

	"github.com/dingcrm/crm/internal/auth"
)

// The contact fields a role can mask or hide (字段权限).
const (
	FieldPhone  = "contact.phone"
	FieldEmail  = "contact.email"
	FieldWeChat = "contact.wechat"
)

// Mask shows c as a may see it: phones, e-mail and WeChat per a's policy.
func Mask(a *auth.Actor, c *Contact) {
	if a == nil || c == nil || len(a.Fields) == 0 {
		return
	}
	c.Phones = a.Fields.MaskList(FieldPhone, c.Phones)
	c.Email = a.Fields.Mask(FieldEmail, c.Email)
	c.WeChat = a.Fields.Mask(FieldWeChat, c.WeChat)
}

// MaskAll masks every contact of a list.
func MaskAll(a *auth.Actor, cs []Contact) {
	for i := range cs {
		Mask(a, &cs[i])
	}
}

func (s *Service) get(ctx context.Context, a *auth.Actor, id int64) (*Contact, error) {
	c, err := s.store.Get(ctx, s.db, a, id)
	if err == nil {
		Mask(a, c)
	}
	return c, err
}

// keepUnseen leaves a restricted field as it is when an edit sends back
// exactly what a was shown, so re-saving a form never writes the mask.
func keepUnseen(a *auth.Actor, c *Contact, in *Input) {
	if a == nil || len(a.Fields) == 0 {
		return
	}
	if in.Phones != nil && !a.Fields.Visible(FieldPhone) && slices.Equal(*in.Phones, a.Fields.MaskList(FieldPhone, c.Phones)) {
		in.Phones = nil
	}
	if in.Email != nil && !a.Fields.Visible(FieldEmail) && *in.Email == a.Fields.Mask(FieldEmail, c.Email) {
		in.Email = nil
	}
	if in.WeChat != nil && !a.Fields.Visible(FieldWeChat) && *in.WeChat == a.Fields.Mask(FieldWeChat, c.WeChat) {
		in.WeChat = nil
	}
}
