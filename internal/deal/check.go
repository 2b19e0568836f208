package deal

import (
	"context"
	"errors"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/product"
	"github.com/dingcrm/crm/internal/sale"
	"github.com/dingcrm/crm/internal/store"
)

// check validates in against o (old is the stored opportunity on edit, nil
// on create) and writes it onto o: plain fields, lines against the
// catalogue, customer, owner and stage, every problem at once. moved
// reports a stage change (creation included).
func (s *Service) check(ctx context.Context, tx *sqlx.Tx, a *auth.Actor, o, old *Opportunity, in Input, keep map[int64]bool) (moved bool, err error) {
	verr := apply(o, in)
	var v errs.Invalid
	reasons, err := s.lostReasons(ctx)
	if err != nil {
		return false, err
	}
	oldReason := ""
	if old != nil {
		oldReason = old.LostReason
	}
	checkLostReason(&v, in.LostReason, oldReason, reasons)
	if in.Lines != nil {
		lines, err := product.BuildLines(ctx, tx, *in.Lines, keep, &v)
		if err != nil {
			return false, err
		}
		o.Lines = lines
		if in.AmountFen == nil && len(lines) > 0 {
			o.AmountFen = product.Sum(lines)
			product.CheckFen(&v, "amount_fen", o.AmountFen)
		}
	}
	if err := s.checkCustomer(ctx, tx, a, o, old, &v); err != nil {
		return false, err
	}
	board, err := stages(ctx, tx, true)
	if err != nil {
		return false, err
	}
	moved = applyStage(&v, o, old, board, in)
	return moved, sale.JoinInvalid(verr, v.Err(), s.checkOwner(ctx, a, o, old, in.OwnerID))
}

// checkCustomer: the customer must be one the Actor sees and not deleted;
// once a sale was made from the opportunity it can no longer change.
func (s *Service) checkCustomer(ctx context.Context, tx *sqlx.Tx, a *auth.Actor, o, old *Opportunity, v *errs.Invalid) error {
	if o.CustomerID < 1 || old != nil && old.CustomerID == o.CustomerID {
		return nil // a bad id was reported by apply
	}
	if old != nil && old.SaleID != nil {
		v.Add("customer_id", "deal.customer_fixed")
		return nil
	}
	c, err := s.customers.Get(ctx, tx, a, o.CustomerID, false)
	if errors.Is(err, customer.ErrNotFound) {
		v.Add("customer_id", "sale.customer_unknown")
		return nil
	}
	if err != nil {
		return err
	}
	o.CustomerName = c.Name
	return nil
}

func (s *Service) checkOwner(ctx context.Context, a *auth.Actor, o, old *Opportunity, ownerID *int64) error {
	if ownerID == nil || old != nil && *ownerID == old.OwnerID {
		return nil
	}
	owner, err := sale.ResolveOwner(ctx, s.people, a, ownerRule, *ownerID)
	if err != nil {
		return err
	}
	o.OwnerID, o.DepartmentID = owner.UserID, owner.PrimaryDeptID
	return nil
}

// applyStage puts o in the requested stage (the first open one for a new
// opportunity without one) and keeps status, probability, lost reason and
// closed time consistent with it. It reports whether the stage changed.
func applyStage(v *errs.Invalid, o, old *Opportunity, board []Stage, in Input) bool {
	target, moved := o.StageID, false
	switch {
	case in.StageID != nil:
		target = *in.StageID
	case old == nil:
		target = firstOpen(board)
	}
	if old == nil || target != old.StageID {
		st, ok := find(board, target)
		if !ok {
			v.Add("stage_id", "deal.stage_unknown")
			return false
		}
		moved = true
		o.StageID, o.StageCode, o.StageName, o.StageKind, o.Probability = st.ID, st.Code, st.Name, st.Kind, st.Probability
		o.Status, o.ClosedAt = statusOf(st.Kind), nil
		if o.Status != StatusOpen {
			now := store.Now()
			o.ClosedAt = &now
		}
	}
	if in.Probability != nil {
		o.Probability = *in.Probability
	}
	switch {
	case o.Status != StatusLost:
		o.LostReason = ""
	case in.LostReason != nil:
		o.LostReason = *in.LostReason
	}
	if o.Status == StatusLost && o.LostReason == "" {
		v.Add("lost_reason", "deal.lost_reason_required")
	}
	return moved
}

func statusOf(kind string) string {
	switch kind {
	case KindWon:
		return StatusWon
	case KindLost:
		return StatusLost
	}
	return StatusOpen
}

func firstOpen(board []Stage) int64 {
	for _, st := range board {
		if st.Kind == KindOpen {
			return st.ID
		}
	}
	return 0
}

func find(board []Stage, id int64) (Stage, bool) {
	for _, st := range board {
		if st.ID == id {
			return st, true
		}
	}
	return Stage{}, false
}
