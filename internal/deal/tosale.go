package deal

import (
	"context"
	"errors"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/product"
	"github.com/dingcrm/crm/internal/sale"
)

// CreateSale records the sale of a won opportunity (赢单 → 销售数据): the
// customer, salesperson, amount and line items are the opportunity's, and
// the sale is linked to it, in one transaction. An opportunity that is not
// won (ErrNotWon) or already has its sale (ErrHasSale) is refused.
func (s *Service) CreateSale(ctx context.Context, a *auth.Actor, id int64, in SaleInput) (*sale.Sale, error) {
	if err := a.Require(PermView); err != nil {
		return nil, err
	}
	if err := a.Require(sale.PermCreate); err != nil {
		return nil, err
	}
	var saleID int64
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		o, err := s.store.Get(ctx, tx, a, id, false)
		if err != nil {
			return err
		}
		switch {
		case o.Status != StatusWon:
			return ErrNotWon
		case o.SaleID != nil:
			return ErrHasSale
		}
		saleID, err = s.sales.CreateForOpportunity(ctx, tx, a, saleInput(o, in))
		if errors.Is(err, sale.ErrOpportunityHasSale) {
			return ErrHasSale // lost a race with another click
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.sales.Get(ctx, a, saleID)
}

// saleInput prefills a sale from the opportunity.
func saleInput(o *Opportunity, in SaleInput) sale.Input {
	lines := make([]product.LineInput, len(o.Lines))
	for i, l := range o.Lines {
		lines[i] = product.LineInput{ProductID: &l.ProductID, Quantity: &l.Quantity, UnitPriceFen: &l.UnitPriceFen}
	}
	amount, customerID, ownerID, oppID := o.AmountFen, o.CustomerID, o.OwnerID, o.ID
	return sale.Input{CustomerID: &customerID, OwnerID: &ownerID, SaleDate: in.SaleDate, AmountFen: &amount,
		Lines: &lines, OpportunityID: sale.OptID{Set: true, Value: &oppID}, Notes: in.Notes}
}
