package pool

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/store"
)

// maxReason is the longest release reason, in characters.
const maxReason = 200

// Release (放弃/退回公海) returns a customer to the pool with a reason. Its
// owner may release it; so may whoever holds customer.transfer and sees it.
func (s *Service) Release(ctx context.Context, a *auth.Actor, id int64, in ReleaseInput) error {
	if err := a.Require(auth.CustomerView); err != nil {
		return err
	}
	reason, err := validReason(in.Reason)
	if err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		c, err := s.customers.Get(ctx, tx, a, id, false)
		if err != nil {
			return err
		}
		if c.OwnerID != a.UserID && !a.Can(CustomerTransfer) {
			return errs.ErrForbidden
		}
		ok, err := toPool(ctx, tx, c.ID, c.OwnerID, CauseRelease, reason, store.Now())
		if err != nil {
			return err
		}
		if !ok {
			return ErrChanged
		}
		changes := ownerChange(c.OwnerID, c.OwnerName, c.DepartmentID, 0, "", 0)
		changes["pool_reason"] = audit.Change{New: reason}
		return audit.Record(ctx, tx, audit.By(a), audit.Entry{Action: ActRelease, Entity: "customer", EntityID: c.ID,
			CustomerID: c.ID, EntityName: c.Name, Changes: changes})
	})
}

func validReason(p *string) (string, error) {
	var r string
	if p != nil {
		r = strings.TrimSpace(*p)
	}
	switch {
	case r == "":
		return "", errs.InvalidField("reason", "validation.required")
	case utf8.RuneCountInString(r) > maxReason:
		return "", errs.InvalidField("reason", "validation.too_long", "max", maxReason)
	case strings.IndexFunc(r, func(c rune) bool { return unicode.IsControl(c) && c != '\n' && c != '\t' }) >= 0:
		return "", errs.InvalidField("reason", "validation.control_chars")
	}
	return r, nil
}

// TransferOne moves one customer to another person (转移). A customer the
// Actor cannot see is not found.
func (s *Service) TransferOne(ctx context.Context, a *auth.Actor, id int64, to *int64) (*TransferResult, error) {
	if err := a.Require(CustomerTransfer); err != nil {
		return nil, err
	}
	if _, err := s.customers.Get(ctx, s.db, a, id, false); err != nil {
		return nil, err
	}
	return s.Transfer(ctx, a, TransferInput{CustomerIDs: []int64{id}, ToUserID: to})
}

// Transfer moves customers to another person (批量转移): all of them or, if
// any cannot be moved, none, with a problem per customer id. The customers
// must be within the Actor's scope, the recipient active and within it too,
// and the recipient stays within the cap. Each moved customer is audited.
func (s *Service) Transfer(ctx context.Context, a *auth.Actor, in TransferInput) (*TransferResult, error) {
	if err := a.Require(CustomerTransfer); err != nil {
		return nil, err
	}
	ids, idErr := validIDs(in.CustomerIDs)
	to, toErr := s.recipient(ctx, a, in.ToUserID, "to_user_id")
	if err := joinInvalid(idErr, toErr); err != nil {
		return nil, err
	}
	rules, err := loadRules(ctx, s.db)
	if err != nil {
		return nil, err
	}
	res := &TransferResult{}
	err = s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		if err := lockPerson(ctx, tx, s.db, to.UserID); err != nil {
			return err
		}
		found, err := ownedInScope(ctx, tx, s.db, a, ids)
		if err != nil {
			return err
		}
		var v errs.Invalid
		var moving []owned
		for _, id := range ids {
			c, ok := found[id]
			switch {
			case !ok:
				v.Add(fmt.Sprintf("customer_ids.%d", id), "pool.transfer_unavailable")
			case c.OwnerID == to.UserID:
				res.Unchanged++
			default:
				moving = append(moving, c)
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		if err := s.checkCap(ctx, tx, rules, to, len(moving), "to_user_id"); err != nil {
			return err
		}
		return s.move(ctx, tx, a, moving, to, res)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// move gives the customers to to and writes one audit entry each.
func (s *Service) move(ctx context.Context, tx *sqlx.Tx, a *auth.Actor, moving []owned, to *auth.Actor, res *TransferResult) error {
	if len(moving) == 0 {
		return nil
	}
	ids := make([]int64, len(moving))
	for i, c := range moving {
		ids[i] = c.ID
	}
	n, err := reassign(ctx, tx, ids, to.UserID, to.PrimaryDeptID, store.Now())
	if err != nil {
		return err
	}
	if n != len(ids) {
		return ErrChanged
	}
	for _, c := range moving {
		err := audit.Record(ctx, tx, audit.By(a), audit.Entry{Action: ActTransfer, Entity: "customer", EntityID: c.ID,
			CustomerID: c.ID, EntityName: c.Name,
			Changes: ownerChange(c.OwnerID, c.OwnerName, c.DepartmentID, to.UserID, to.Name, to.PrimaryDeptID)})
		if err != nil {
			return err
		}
	}
	res.Transferred = n
	return nil
}

// validIDs checks a transfer's list: 1 to MaxTransfer positive ids; repeats
// are dropped. The ids come back sorted, so rows lock in one order.
func validIDs(ids []int64) ([]int64, error) {
	switch {
	case len(ids) == 0:
		return nil, errs.InvalidField("customer_ids", "validation.required")
	case len(ids) > MaxTransfer:
		return nil, errs.InvalidField("customer_ids", "validation.too_many", "max", MaxTransfer)
	}
	seen := map[int64]bool{}
	out := make([]int64, 0, len(ids))
	for _, id := range ids {
		if id < 1 {
			return nil, errs.InvalidField("customer_ids", "validation.number")
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

// joinInvalid merges validation errors so a form shows every problem at
// once; any other error wins.
func joinInvalid(list ...error) error {
	var merged errs.Invalid
	for _, err := range list {
		if err == nil {
			continue
		}
		var e *errs.Error
		if !errors.As(err, &e) || e.Kind != errs.KindInvalid {
			return err
		}
		for name, f := range e.Fields {
			args := []any{}
			for k, v := range f.Args {
				args = append(args, k, v)
			}
			merged.Add(name, f.Key, args...)
		}
	}
	return merged.Err()
}
