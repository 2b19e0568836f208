package followup

import (
	"context"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/option"
	"github.com/dingcrm/crm/internal/store"
)

// Service is what handlers, jobs and the bot call for follow-ups.
type Service struct {
	db        *store.DB
	store     *Store
	customers *customer.Store
	opts      option.Source
}

// SetOptions makes methods come from src (the company's editable list)
// instead of the built-in ones.
func (s *Service) SetOptions(src option.Source) { s.opts = src }

func (s *Service) methods(ctx context.Context) (option.Set, error) {
	if s.opts == nil {
		return option.Fixed(Methods), nil
	}
	return s.opts.OptionSet(ctx, option.FollowupMethods)
}

// NewService wires the follow-up service.
func NewService(db *store.DB) *Service {
	return &Service{db: db, store: NewStore(db), customers: customer.NewStore(db)}
}

// List returns a page of the follow-ups the Actor sees, latest first.
func (s *Service) List(ctx context.Context, a *auth.Actor, f Filter) ([]Followup, int, error) {
	if err := a.Require(PermView); err != nil {
		return nil, 0, err
	}
	methods, err := s.methods(ctx)
	if err != nil {
		return nil, 0, err
	}
	if err := validFilter(&f, methods); err != nil {
		return nil, 0, err
	}
	return s.store.List(ctx, a, f)
}

// Get returns one follow-up the Actor sees.
func (s *Service) Get(ctx context.Context, a *auth.Actor, id int64) (*Followup, error) {
	if err := a.Require(PermView); err != nil {
		return nil, err
	}
	return s.store.Get(ctx, s.db, a, id)
}

// Create logs a follow-up on a customer the Actor sees. The Actor is its
// owner and their main department its department.
func (s *Service) Create(ctx context.Context, a *auth.Actor, in Input) (*Followup, error) {
	if err := a.Require(PermCreate); err != nil {
		return nil, err
	}
	methods, err := s.methods(ctx)
	if err != nil {
		return nil, err
	}
	now := store.Now()
	f := &Followup{OwnerID: a.UserID, DepartmentID: a.PrimaryDeptID, CreatedBy: a.UserID, CreatedAt: now, UpdatedAt: now}
	var v errs.Invalid
	for field, p := range map[string]*string{"followed_at": in.FollowedAt, "method": in.Method, "content": in.Content} {
		if p == nil {
			v.Add(field, "validation.required")
		}
	}
	apply(&v, f, in, now, methods)
	if err := s.checkCustomer(ctx, s.db, a, &v, in.CustomerID, f); err != nil {
		return nil, err
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	err = s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		if err := s.customers.Lock(ctx, tx, f.CustomerID); err != nil {
			return err
		}
		// Checked again under the lock: the customer may have been deleted
		// or handed on since.
		var v errs.Invalid
		if err := s.checkCustomer(ctx, tx, a, &v, in.CustomerID, f); err != nil {
			return err
		}
		if err := checkOpportunity(ctx, tx, &v, f); err != nil {
			return err
		}
		if err := v.Err(); err != nil {
			return err
		}
		if err := s.store.Insert(ctx, tx, f); err != nil {
			return err
		}
		if err := s.store.syncCustomer(ctx, tx, f.CustomerID, nil, f, now); err != nil {
			return err
		}
		return record(ctx, tx, a, audit.ActCreate, f, audit.Diff(nil, f.auditFields()))
	})
	if err != nil {
		return nil, err
	}
	return s.store.Get(ctx, s.db, a, f.ID)
}

// checkCustomer puts the customer of a new follow-up onto f, or records why
// it cannot be: missing, not a positive id, deleted or out of scope (all
// the same to the person: no such customer).
func (s *Service) checkCustomer(ctx context.Context, x sqlx.QueryerContext, a *auth.Actor, v *errs.Invalid, id *int64, f *Followup) error {
	switch {
	case id == nil:
		v.Add("customer_id", "validation.required")
	case *id < 1:
		v.Add("customer_id", "validation.number")
	default:
		name, ok, err := s.customers.VisibleName(ctx, x, a, *id)
		if err != nil {
			return err
		}
		if !ok {
			v.Add("customer_id", "customer.not_found")
		}
		f.CustomerID, f.CustomerName = *id, name
	}
	return nil
}

// checkOpportunity makes sure a linked opportunity is a live one of the
// follow-up's own customer (which the person can see, so the opportunity
// is theirs to link).
func checkOpportunity(ctx context.Context, x sqlx.QueryerContext, v *errs.Invalid, f *Followup) error {
	if f.OpportunityID == nil || v.Has("opportunity_id") || v.Has("customer_id") {
		return nil
	}
	var customerID int64
	err := sqlx.GetContext(ctx, x, &customerID, "SELECT customer_id FROM opportunities WHERE id = ? AND deleted_at IS NULL", *f.OpportunityID)
	if store.IsNoRows(err) || err == nil && customerID != f.CustomerID {
		v.Add("opportunity_id", "followup.opportunity_other")
		return nil
	}
	return err
}

// Update applies a partial edit if the Actor saw the latest version.
func (s *Service) Update(ctx context.Context, a *auth.Actor, id int64, in Input) (*Followup, error) {
	if err := a.Require(PermEdit); err != nil {
		return nil, err
	}
	if in.Version == nil {
		return nil, errs.InvalidField("version", "validation.required")
	}
	methods, err := s.methods(ctx)
	if err != nil {
		return nil, err
	}
	err = s.inLockedTx(ctx, a, id, func(tx *sqlx.Tx, f *Followup) error {
		if f.Version != *in.Version {
			return ErrStale
		}
		before := *f
		var v errs.Invalid
		if in.CustomerID != nil && *in.CustomerID != f.CustomerID {
			v.Add("customer_id", "followup.customer_fixed")
		}
		now := store.Now()
		apply(&v, f, in, now, methods)
		if err := checkOpportunity(ctx, tx, &v, f); err != nil {
			return err
		}
		if err := v.Err(); err != nil {
			return err
		}
		changes := audit.Diff(before.auditFields(), f.auditFields())
		if len(changes) == 0 {
			return nil
		}
		f.UpdatedAt = now
		ok, err := s.store.Update(ctx, tx, f)
		if err != nil {
			return err
		}
		if !ok {
			return ErrStale
		}
		if err := s.store.syncCustomer(ctx, tx, f.CustomerID, &before, f, now); err != nil {
			return err
		}
		return record(ctx, tx, a, audit.ActUpdate, f, changes)
	})
	if err != nil {
		return nil, err
	}
	return s.store.Get(ctx, s.db, a, id)
}

// Delete moves a follow-up to the recycle bin and recomputes its
// customer's follow-up times without it.
func (s *Service) Delete(ctx context.Context, a *auth.Actor, id int64) error {
	if err := a.Require(PermDelete); err != nil {
		return err
	}
	return s.inLockedTx(ctx, a, id, func(tx *sqlx.Tx, f *Followup) error {
		now := store.Now()
		if err := s.store.SetDeleted(ctx, tx, id, a.UserID, now); err != nil {
			return err
		}
		if err := s.store.syncCustomer(ctx, tx, f.CustomerID, f, nil, now); err != nil {
			return err
		}
		return record(ctx, tx, a, audit.ActDelete, f, audit.Diff(f.auditFields(), nil))
	})
}

// inLockedTx runs fn on a follow-up the Actor may change, read in a
// transaction that holds its customer's lock. Not visible: ErrNotFound.
// Visible but neither the Actor's own nor on a customer the Actor sees
// (a manager reading a team member's note on a customer since handed
// elsewhere): ErrForbidden. The module permission is checked by the caller.
func (s *Service) inLockedTx(ctx context.Context, a *auth.Actor, id int64, fn func(tx *sqlx.Tx, f *Followup) error) error {
	customerID, err := s.store.CustomerOf(ctx, id)
	if err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		if err := s.customers.Lock(ctx, tx, customerID); err != nil {
			return err
		}
		f, err := s.store.Get(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if f.OwnerID != a.UserID {
			_, visible, err := s.customers.VisibleName(ctx, tx, a, f.CustomerID)
			if err != nil {
				return err
			}
			if !visible {
				return errs.ErrForbidden
			}
		}
		return fn(tx, f)
	})
}

// record logs a write on a follow-up, on its customer's timeline. The
// changes carry the follow-up's own fields (method, content, result, next
// step…), so the timeline can show the follow-up itself.
func record(ctx context.Context, tx *sqlx.Tx, a *auth.Actor, action string, f *Followup, changes map[string]audit.Change) error {
	return audit.Record(ctx, tx, audit.By(a), audit.Entry{Action: action, Entity: "followup", EntityID: f.ID,
		EntityName: preview(f.Content), CustomerID: f.CustomerID, Changes: changes})
}
