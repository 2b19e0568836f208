package deal

import (
	"context"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/sale"
)

// FieldAmount is the opportunity amount's field-visibility code (字段权限).
const FieldAmount = "opportunity.amount"

// Mask shows o as a may see it: amount, line prices and the weighted amount.
func Mask(a *auth.Actor, o *Opportunity) {
	if a == nil || o == nil {
		return
	}
	o.AmountHidden = sale.MaskMoney(a.Fields, FieldAmount, &o.AmountFen, &o.Amount, o.Lines)
}

// MaskAll masks a list.
func MaskAll(a *auth.Actor, os []Opportunity) {
	for i := range os {
		Mask(a, &os[i])
	}
}

// maskSums hides a column's amounts (the count stays).
func maskSums(a *auth.Actor, s *Sums) {
	if a == nil || a.Fields.Visible(FieldAmount) {
		return
	}
	sale.MaskMoney(a.Fields, FieldAmount, &s.AmountFen, &s.Amount, nil)
	sale.MaskMoney(a.Fields, FieldAmount, &s.WeightedAmountFen, &s.WeightedAmount, nil)
	s.AmountHidden = true
}

// keepAmount: a person who may not see the amount cannot change it.
func keepAmount(a *auth.Actor, in *Input) {
	if a != nil && !a.Fields.Visible(FieldAmount) {
		in.AmountFen, in.Lines = nil, nil
	}
}

func (s *Service) get(ctx context.Context, x sqlx.QueryerContext, a *auth.Actor, id int64) (*Opportunity, error) {
	o, err := s.store.Get(ctx, x, a, id, false)
	if err == nil {
		Mask(a, o)
	}
	return o, err
}
