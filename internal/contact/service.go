package contact

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/store"
)

// Service is what handlers, jobs and the bot call for contacts.
type Service struct {
	db        *store.DB
	store     *Store
	customers *customer.Store
}

// NewService wires the contact service; customers keeps each customer's
// search text in step with its contacts.
func NewService(db *store.DB, customers *customer.Store) *Service {
	return &Service{db: db, store: NewStore(db), customers: customers}
}

// List returns a page of the contacts of customers in the Actor's scope.
func (s *Service) List(ctx context.Context, a *auth.Actor, f Filter) ([]Contact, int, error) {
	if err := a.Require(PermView); err != nil {
		return nil, 0, err
	}
	if err := validFilter(&f); err != nil {
		return nil, 0, err
	}
	out, total, err := s.store.List(ctx, a, f)
	MaskAll(a, out)
	return out, total, err
}

// Get returns one contact of a customer in the Actor's scope.
func (s *Service) Get(ctx context.Context, a *auth.Actor, id int64) (*Contact, error) {
	if err := a.Require(PermView); err != nil {
		return nil, err
	}
	return s.get(ctx, a, id)
}

// Create adds a contact to a customer the Actor sees. The customer's first
// contact is its primary one; a later one is primary only when asked, and
// then the old primary is demoted.
func (s *Service) Create(ctx context.Context, a *auth.Actor, in Input) (*Contact, error) {
	if err := a.Require(PermCreate); err != nil {
		return nil, err
	}
	now := store.Now()
	c := &Contact{Phones: []string{}, CreatedBy: a.UserID, CreatedAt: now, UpdatedAt: now}
	if in.Name == nil {
		in.Name = new(string) // so "required" is reported
	}
	var v errs.Invalid
	apply(&v, c, in)
	if err := s.checkCustomer(ctx, s.db, a, &v, in.CustomerID, c); err != nil {
		return nil, err
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		if err := s.customers.Lock(ctx, tx, c.CustomerID); err != nil {
			return err
		}
		// Checked again under the lock: the customer may have been deleted
		// or handed on since.
		var v errs.Invalid
		if err := s.checkCustomer(ctx, tx, a, &v, in.CustomerID, c); err != nil {
			return err
		}
		if err := v.Err(); err != nil {
			return err
		}
		live, err := s.store.Live(ctx, tx, c.CustomerID)
		if err != nil {
			return err
		}
		c.IsPrimary = len(live) == 0 || (in.IsPrimary != nil && *in.IsPrimary)
		if c.IsPrimary {
			if err := s.demote(ctx, tx, a, c, live, now); err != nil {
				return err
			}
		}
		if err := s.store.Insert(ctx, tx, c); err != nil {
			return err
		}
		if err := s.record(ctx, tx, a, audit.ActCreate, c, audit.Diff(nil, c.auditFields())); err != nil {
			return err
		}
		return s.customers.Reindex(ctx, tx, c.CustomerID, searchFields(append(live, *c)))
	})
	if err != nil {
		return nil, err
	}
	return s.get(ctx, a, c.ID)
}

// checkCustomer puts the customer of a new contact onto c, or records why
// it cannot be: missing, not a positive id, deleted or out of scope (all
// the same to the person: no such customer).
func (s *Service) checkCustomer(ctx context.Context, x sqlx.QueryerContext, a *auth.Actor, v *errs.Invalid, id *int64, c *Contact) error {
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
		c.CustomerID, c.CustomerName = *id, name
	}
	return nil
}

// Update applies a partial edit if the Actor saw the latest version.
func (s *Service) Update(ctx context.Context, a *auth.Actor, id int64, in Input) (*Contact, error) {
	if err := a.Require(PermEdit); err != nil {
		return nil, err
	}
	if in.Version == nil {
		return nil, errs.InvalidField("version", "validation.required")
	}
	customerID, err := s.store.CustomerOf(ctx, id)
	if err != nil {
		return nil, err
	}
	err = s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		if err := s.customers.Lock(ctx, tx, customerID); err != nil {
			return err
		}
		c, err := s.store.Get(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if c.Version != *in.Version {
			return ErrStale
		}
		return s.update(ctx, tx, a, c, in)
	})
	if err != nil {
		return nil, err
	}
	return s.get(ctx, a, id)
}

// update validates and saves an edit of c, already read under the lock.
func (s *Service) update(ctx context.Context, tx *sqlx.Tx, a *auth.Actor, c *Contact, in Input) error {
	var v errs.Invalid
	if in.CustomerID != nil && *in.CustomerID != c.CustomerID {
		v.Add("customer_id", "contact.customer_fixed")
	}
	before := c.auditFields()
	keepUnseen(a, c, &in)
	apply(&v, c, in)
	promote := false
	if in.IsPrimary != nil && *in.IsPrimary != c.IsPrimary {
		if c.IsPrimary {
			v.Add("is_primary", "contact.primary_required")
		}
		promote = !c.IsPrimary
	}
	if err := v.Err(); err != nil {
		return err
	}
	changes := audit.Diff(before, c.auditFields())
	if len(changes) == 0 && !promote {
		return nil
	}
	now := store.Now()
	live, err := s.store.Live(ctx, tx, c.CustomerID)
	if err != nil {
		return err
	}
	if promote {
		if err := s.demote(ctx, tx, a, c, live, now); err != nil {
			return err
		}
		c.IsPrimary = true
		changes = audit.Diff(before, c.auditFields())
	}
	c.UpdatedAt = now
	ok, err := s.store.Update(ctx, tx, c)
	if err != nil {
		return err
	}
	if !ok {
		return ErrStale
	}
	if err := s.record(ctx, tx, a, audit.ActUpdate, c, changes); err != nil {
		return err
	}
	for i := range live {
		if live[i].ID == c.ID {
			live[i] = *c
		}
	}
	return s.customers.Reindex(ctx, tx, c.CustomerID, searchFields(live))
}

// Delete moves a contact to the recycle bin. When it was the primary
// contact, the customer's oldest remaining contact becomes primary.
func (s *Service) Delete(ctx context.Context, a *auth.Actor, id int64) error {
	if err := a.Require(PermDelete); err != nil {
		return err
	}
	customerID, err := s.store.CustomerOf(ctx, id)
	if err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		if err := s.customers.Lock(ctx, tx, customerID); err != nil {
			return err
		}
		c, err := s.store.Get(ctx, tx, a, id)
		if err != nil {
			return err
		}
		now := store.Now()
		if err := s.store.SetDeleted(ctx, tx, id, a.UserID, now); err != nil {
			return err
		}
		if err := s.record(ctx, tx, a, audit.ActDelete, c, audit.Diff(c.auditFields(), nil)); err != nil {
			return err
		}
		live, err := s.store.Live(ctx, tx, c.CustomerID)
		if err != nil {
			return err
		}
		if c.IsPrimary && len(live) > 0 {
			if err := s.setPrimary(ctx, tx, a, &live[0], true, now); err != nil {
				return err
			}
		}
		return s.customers.Reindex(ctx, tx, c.CustomerID, searchFields(live))
	})
}

// demote clears the primary flag of every live contact but keep.
func (s *Service) demote(ctx context.Context, tx *sqlx.Tx, a *auth.Actor, keep *Contact, live []Contact, at time.Time) error {
	for i := range live {
		if live[i].IsPrimary && live[i].ID != keep.ID {
			if err := s.setPrimary(ctx, tx, a, &live[i], false, at); err != nil {
				return err
			}
		}
	}
	return nil
}

// setPrimary changes one contact's flag and logs it, since the change
// shows on that contact too.
func (s *Service) setPrimary(ctx context.Context, tx *sqlx.Tx, a *auth.Actor, c *Contact, primary bool, at time.Time) error {
	if err := s.store.SetPrimary(ctx, tx, c.ID, primary, at); err != nil {
		return err
	}
	c.IsPrimary = primary
	return s.record(ctx, tx, a, audit.ActUpdate, c, map[string]audit.Change{"is_primary": {Old: !primary, New: primary}})
}

// record logs a write on a contact, on its customer's timeline.
func (s *Service) record(ctx context.Context, tx *sqlx.Tx, a *auth.Actor, action string, c *Contact, changes map[string]audit.Change) error {
	return audit.Record(ctx, tx, audit.By(a), audit.Entry{Action: action, Entity: "contact", EntityID: c.ID,
		EntityName: c.Name, CustomerID: c.CustomerID, Changes: changes})
}
