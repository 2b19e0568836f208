package sale

import (
	"context"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/product"
)

// FieldAmount is the sale amount's field-visibility code (字段权限): a role
// may see amounts masked (***) or not at all, line prices and totals included.
const FieldAmount = "sale.amount"

// MaskMoney hides an amount and line prices from a policy that may not see
// field; it reports whether it did. Shared with opportunities.
func MaskMoney(p auth.FieldPolicy, field string, fen *int64, text *string, lines []product.Line) bool {
	if p.Visible(field) {
		return false
	}
	*text = p.Mask(field, *text)
	*fen = 0
	for i := range lines {
		l := &lines[i]
		l.UnitPrice, l.Total = p.Mask(field, l.UnitPrice), p.Mask(field, l.Total)
		l.UnitPriceFen, l.TotalFen = 0, 0
	}
	return true
}

// Mask shows sl as a may see it.
func Mask(a *auth.Actor, sl *Sale) {
	if a == nil || sl == nil {
		return
	}
	sl.AmountHidden = MaskMoney(a.Fields, FieldAmount, &sl.AmountFen, &sl.Amount, sl.Lines)
}

// MaskAll masks a list and its totals.
func MaskAll(a *auth.Actor, sales []Sale, t *Totals) {
	if a == nil {
		return
	}
	for i := range sales {
		Mask(a, &sales[i])
	}
	t.AmountHidden = MaskMoney(a.Fields, FieldAmount, &t.AmountFen, &t.Amount, nil)
}

// keepAmount: a person who may not see the amount cannot change it either
// (the form they saved shows a mask, not a figure), so an edit's amount and
// lines are left as they are.
func keepAmount(a *auth.Actor, in *Input) {
	if a != nil && !a.Fields.Visible(FieldAmount) {
		in.AmountFen, in.Lines = nil, nil
	}
}

func (s *Service) get(ctx context.Context, x sqlx.QueryerContext, a *auth.Actor, id int64) (*Sale, error) {
	sl, err := s.store.Get(ctx, x, a, id, false)
	if err == nil {
		Mask(a, sl)
	}
	return sl, err
}
