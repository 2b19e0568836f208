package customer

import (
	"context"
	"errors"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/option"
	"github.com/dingcrm/crm/internal/paging"
	"github.com/dingcrm/crm/internal/store"
)

// History reads a customer's timeline from the operation log.
type History interface {
	Timeline(ctx context.Context, customerID int64, page, size int) ([]audit.Item, int, error)
}

// ActorLoader builds the Actor of a person; the service uses it to check a
// new owner (active, and where their records are filed).
type ActorLoader interface {
	Load(ctx context.Context, userID int64) (*auth.Actor, error)
}

// Service is what handlers, jobs and the bot call for customers.
type Service struct {
	db     *store.DB
	store  *Store
	people ActorLoader
	log    History
	merge  mergeTables // which of MergeTables exist, looked up once
	opts   option.Source
}

// SetOptions makes the service validate against src (the company's
// editable lists) instead of the built-in ones.
func (s *Service) SetOptions(src option.Source) { s.opts = src }

// Lists reads the current option lists.
func (s *Service) Lists(ctx context.Context) (Lists, error) { return LoadLists(ctx, s.opts) }

// LoadLists reads the current option lists from src (the built-in lists
// when src is nil).
func LoadLists(ctx context.Context, src option.Source) (Lists, error) {
	if src == nil {
		return DefaultLists(), nil
	}
	var l Lists
	var err error
	for _, x := range []struct {
		list string
		dst  *option.Set
	}{{option.Sources, &l.Sources}, {option.Industries, &l.Industries}, {option.Levels, &l.Levels}} {
		if *x.dst, err = src.OptionSet(ctx, x.list); err != nil {
			return Lists{}, err
		}
	}
	return l, nil
}

// NewService wires the customer service.
func NewService(db *store.DB, st *Store, people ActorLoader, log History) *Service {
	return &Service{db: db, store: st, people: people, log: log}
}

// get reads a customer for showing: in scope, live, masked for a.
func (s *Service) get(ctx context.Context, a *auth.Actor, id int64) (*Customer, error) {
	c, err := s.store.Get(ctx, s.db, a, id, false)
	if err == nil {
		Mask(a, c)
	}
	return c, err
}

// Timeline is everything that happened to a customer and its records
// (edits, ownership changes, follow-ups, sales, opportunity changes),
// newest first, paged.
func (s *Service) Timeline(ctx context.Context, a *auth.Actor, id int64, page, size int) ([]audit.Item, int, error) {
	if _, err := s.Get(ctx, a, id); err != nil {
		return nil, 0, err
	}
	var v errs.Invalid
	paging.Check(&v, &page, &size)
	if err := v.Err(); err != nil {
		return nil, 0, err
	}
	items, total, err := s.log.Timeline(ctx, id, page, size)
	audit.MaskItems(a, items)
	return items, total, err
}

// List returns a page of customers in the Actor's scope.
func (s *Service) List(ctx context.Context, a *auth.Actor, f Filter) ([]Customer, int, error) {
	if err := a.Require(auth.CustomerView); err != nil {
		return nil, 0, err
	}
	lists, err := s.Lists(ctx)
	if err != nil {
		return nil, 0, err
	}
	if err := validFilter(&f, &lists); err != nil {
		return nil, 0, err
	}
	out, total, err := s.store.List(ctx, a, f, false)
	MaskAll(a, out)
	return out, total, err
}

// Get returns one customer in the Actor's scope.
func (s *Service) Get(ctx context.Context, a *auth.Actor, id int64) (*Customer, error) {
	if err := a.Require(auth.CustomerView); err != nil {
		return nil, err
	}
	return s.get(ctx, a, id)
}

// Create adds a customer owned by the Actor, or by owner_id when the Actor
// may assign.
func (s *Service) Create(ctx context.Context, a *auth.Actor, in Input) (*Customer, error) {
	if err := a.Require(auth.CustomerCreate); err != nil {
		return nil, err
	}
	now := store.Now()
	c := &Customer{Status: DefaultStatus, Tags: []string{}, OwnerID: a.UserID, DepartmentID: a.PrimaryDeptID,
		CreatedBy: a.UserID, CreatedAt: now, UpdatedAt: now}
	if in.Name == nil {
		in.Name = new(string) // so "required" is reported
	}
	lists, err := s.Lists(ctx)
	if err != nil {
		return nil, err
	}
	verr := apply(c, in, lists)
	oerr := s.setOwner(ctx, a, c, in.OwnerID)
	if err := joinInvalid(verr, oerr); err != nil {
		return nil, err
	}
	err = s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		if err := s.store.Insert(ctx, tx, c); err != nil {
			return s.duplicateConflict(ctx, tx, a, c, err)
		}
		return audit.Record(ctx, tx, audit.By(a), audit.Entry{Action: audit.ActCreate, Entity: "customer",
			EntityID: c.ID, CustomerID: c.ID, EntityName: c.Name, Changes: audit.Diff(nil, c.auditFields())})
	})
	if err != nil {
		return nil, err
	}
	return s.get(ctx, a, c.ID)
}

// Update applies a partial edit if the Actor saw the latest version.
func (s *Service) Update(ctx context.Context, a *auth.Actor, id int64, in Input) (*Customer, error) {
	if err := a.Require(auth.CustomerEdit); err != nil {
		return nil, err
	}
	if in.Version == nil {
		return nil, errs.InvalidField("version", "validation.required")
	}
	lists, err := s.Lists(ctx)
	if err != nil {
		return nil, err
	}
	err = s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		c, err := s.store.Get(ctx, tx, a, id, false)
		if err != nil {
			return err
		}
		if c.Version != *in.Version {
			return ErrStale
		}
		before := c.auditFields()
		oldText := searchText(c)
		keepUnseen(a, c, &in)
		verr := apply(c, in, lists)
		var oerr error
		if in.OwnerID != nil && *in.OwnerID != c.OwnerID {
			oerr = s.setOwner(ctx, a, c, in.OwnerID)
		}
		if err := joinInvalid(verr, oerr); err != nil {
			return err
		}
		changes := audit.Diff(before, c.auditFields())
		if len(changes) == 0 {
			return nil
		}
		c.UpdatedAt = store.Now()
		ok, err := s.store.Update(ctx, tx, c, searchText(c) != oldText)
		if err != nil {
			return err
		}
		if !ok {
			return ErrStale
		}
		if err := s.rekey(ctx, tx, a, c, changes); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.By(a), audit.Entry{Action: audit.ActUpdate, Entity: "customer",
			EntityID: c.ID, CustomerID: c.ID, EntityName: c.Name, Changes: changes})
	})
	if err != nil {
		return nil, err
	}
	return s.get(ctx, a, id)
}

// Delete moves a customer to the recycle bin.
func (s *Service) Delete(ctx context.Context, a *auth.Actor, id int64) error {
	if err := a.Require(auth.CustomerDelete); err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		c, err := s.store.Get(ctx, tx, a, id, false)
		if err != nil {
			return err
		}
		if err := s.store.SetDeleted(ctx, tx, id, a.UserID, store.Now()); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.By(a), audit.Entry{Action: audit.ActDelete, Entity: "customer",
			EntityID: id, CustomerID: id, EntityName: c.Name})
	})
}

// ListDeleted is the recycle bin (回收站).
func (s *Service) ListDeleted(ctx context.Context, a *auth.Actor, f Filter) ([]Customer, int, error) {
	if err := a.Require(auth.CustomerManage); err != nil {
		return nil, 0, err
	}
	lists, err := s.Lists(ctx)
	if err != nil {
		return nil, 0, err
	}
	if err := validFilter(&f, &lists); err != nil {
		return nil, 0, err
	}
	out, total, err := s.store.List(ctx, a, f, true)
	MaskAll(a, out)
	return out, total, err
}

// Restore brings a customer back from the recycle bin.
func (s *Service) Restore(ctx context.Context, a *auth.Actor, id int64) (*Customer, error) {
	if err := a.Require(auth.CustomerManage); err != nil {
		return nil, err
	}
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		c, err := s.store.Get(ctx, tx, a, id, true)
		if err != nil {
			return err
		}
		if err := s.store.SetDeleted(ctx, tx, id, 0, store.Now()); err != nil {
			return err
		}
		if err := s.rekey(ctx, tx, a, c, nil); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.By(a), audit.Entry{Action: audit.ActRestore, Entity: "customer",
			EntityID: id, CustomerID: id, EntityName: c.Name})
	})
	if err != nil {
		return nil, err
	}
	return s.get(ctx, a, id)
}

// setOwner makes ownerID the owner of c. Giving a customer to someone else
// needs customer.assign, and the new owner must be active and within the
// Actor's own scope (a manager assigns within their departments).
func (s *Service) setOwner(ctx context.Context, a *auth.Actor, c *Customer, ownerID *int64) error {
	if ownerID == nil || *ownerID == a.UserID && c.OwnerID == a.UserID {
		return nil
	}
	if !a.Can(auth.CustomerAssign) && *ownerID != a.UserID {
		return errs.InvalidField("owner_id", "validation.cannot_assign")
	}
	owner, err := s.people.Load(ctx, *ownerID)
	if errors.Is(err, errs.ErrUnauthorized) || errors.Is(err, auth.ErrInactive) {
		return errs.InvalidField("owner_id", "validation.owner_inactive")
	}
	if err != nil {
		return err
	}
	if !a.Sees(owner.UserID, owner.PrimaryDeptID) {
		return errs.InvalidField("owner_id", "validation.owner_out_of_scope")
	}
	c.OwnerID, c.DepartmentID = owner.UserID, owner.PrimaryDeptID
	return nil
}

// joinInvalid merges validation errors so a form shows every problem at
// once; any other error wins.
func joinInvalid(errList ...error) error {
	var merged errs.Invalid
	for _, err := range errList {
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
