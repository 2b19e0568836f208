package sale

import (
	"context"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/product"
	"github.com/dingcrm/crm/internal/store"
)

// The permissions of sales records.
const (
	PermView   auth.Perm = "sale.view"
	PermCreate auth.Perm = "sale.create"
	PermEdit   auth.Perm = "sale.edit"
	PermDelete auth.Perm = "sale.delete"
	PermAssign auth.Perm = "sale.assign"
	PermManage auth.Perm = "sale.manage" // recycle bin
)

var ownerRule = OwnerRule{Assign: PermAssign, CannotKey: "sale.cannot_assign"}

// Customers reads a customer in a person's scope and notes its won deals
// (customer.Store does).
type Customers interface {
	Get(ctx context.Context, x sqlx.QueryerContext, a *auth.Actor, id int64, deleted bool) (*customer.Customer, error)
	RecordWin(ctx context.Context, tx *sqlx.Tx, who audit.Who, customerID int64, at time.Time) error
}

// Service is what handlers and the deal service call for sales records.
type Service struct {
	db        *store.DB
	store     *Store
	customers Customers
	people    People
	loc       *time.Location
}

// NewService wires the sale service; loc is the company's time zone, which
// decides what "today" is for a sale with no date.
func NewService(db *store.DB, customers Customers, people People, loc *time.Location) *Service {
	return &Service{db: db, store: NewStore(db), customers: customers, people: people, loc: loc}
}

// List returns a page of sales in the Actor's scope with the totals of the
// whole filtered set.
func (s *Service) List(ctx context.Context, a *auth.Actor, f Filter) ([]Sale, Totals, error) {
	if err := a.Require(PermView); err != nil {
		return nil, Totals{}, err
	}
	if err := validFilter(&f); err != nil {
		return nil, Totals{}, err
	}
	out, t, err := s.store.List(ctx, a, f, false)
	MaskAll(a, out, &t)
	return out, t, err
}

// Get returns one sale in the Actor's scope.
func (s *Service) Get(ctx context.Context, a *auth.Actor, id int64) (*Sale, error) {
	if err := a.Require(PermView); err != nil {
		return nil, err
	}
	return s.get(ctx, s.db, a, id)
}

// Create records a sale.
func (s *Service) Create(ctx context.Context, a *auth.Actor, in Input) (*Sale, error) {
	if err := a.Require(PermCreate); err != nil {
		return nil, err
	}
	var id int64
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		id, err = s.create(ctx, tx, a, in, nil)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.get(ctx, s.db, a, id)
}

// CreateForOpportunity records the sale of a won opportunity inside the
// caller's transaction (the deal service's). The opportunity's products
// are carried over even if one was deactivated since.
func (s *Service) CreateForOpportunity(ctx context.Context, tx *sqlx.Tx, a *auth.Actor, in Input) (int64, error) {
	if err := a.Require(PermCreate); err != nil {
		return 0, err
	}
	keep := map[int64]bool{}
	if in.Lines != nil {
		for _, l := range *in.Lines {
			if l.ProductID != nil {
				keep[*l.ProductID] = true
			}
		}
	}
	return s.create(ctx, tx, a, in, keep)
}

func (s *Service) create(ctx context.Context, tx *sqlx.Tx, a *auth.Actor, in Input, keep map[int64]bool) (int64, error) {
	now := store.Now()
	sl := &Sale{OwnerID: a.UserID, DepartmentID: a.PrimaryDeptID, SaleDate: Today(s.loc), CreatedBy: a.UserID,
		CreatedAt: now, UpdatedAt: now}
	if in.CustomerID == nil {
		in.CustomerID = new(int64) // so a missing customer is reported
	}
	if err := s.check(ctx, tx, a, sl, nil, in, keep); err != nil {
		return 0, err
	}
	if err := s.store.Insert(ctx, tx, sl); err != nil {
		return 0, err
	}
	// A sale is a won deal: the customer becomes 已成交 and the pool's
	// no-deal clock restarts.
	if err := s.customers.RecordWin(ctx, tx, audit.By(a), sl.CustomerID, now); err != nil {
		return 0, err
	}
	return sl.ID, audit.Record(ctx, tx, audit.By(a), audit.Entry{Action: audit.ActCreate, Entity: "sale",
		EntityID: sl.ID, CustomerID: sl.CustomerID, EntityName: entityName(sl), Changes: audit.Diff(nil, sl.auditFields())})
}

func entityName(sl *Sale) string { return sl.CustomerName + " ¥" + product.FormatFen(sl.AmountFen) }

// Update applies a partial edit if the Actor saw the latest version.
func (s *Service) Update(ctx context.Context, a *auth.Actor, id int64, in Input) (*Sale, error) {
	if err := a.Require(PermEdit); err != nil {
		return nil, err
	}
	if in.Version == nil {
		return nil, errs.InvalidField("version", "validation.required")
	}
	keepAmount(a, &in)
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		sl, err := s.store.Get(ctx, tx, a, id, false)
		if err != nil {
			return err
		}
		if sl.Version != *in.Version {
			return ErrStale
		}
		before := sl.auditFields()
		old := *sl
		if err := s.check(ctx, tx, a, sl, &old, in, product.ProductIDs(sl.Lines)); err != nil {
			return err
		}
		changes := audit.Diff(before, sl.auditFields())
		if len(changes) == 0 {
			return nil
		}
		sl.UpdatedAt = store.Now()
		_, linesChanged := changes["lines"]
		if ok, err := s.store.Update(ctx, tx, sl, linesChanged); err != nil || !ok {
			return staleOr(err)
		}
		return audit.Record(ctx, tx, audit.By(a), audit.Entry{Action: audit.ActUpdate, Entity: "sale",
			EntityID: sl.ID, CustomerID: sl.CustomerID, EntityName: entityName(sl), Changes: changes})
	})
	if err != nil {
		return nil, err
	}
	return s.get(ctx, s.db, a, id)
}

func staleOr(err error) error {
	if err != nil {
		return err
	}
	return ErrStale
}

// check validates in against sl (old is the stored sale on edit, nil on
// create) and writes it onto sl: the plain fields, the lines against the
// catalogue, the customer, the salesperson and the opportunity, every
// problem reported at once.
func (s *Service) check(ctx context.Context, tx *sqlx.Tx, a *auth.Actor, sl, old *Sale, in Input, keep map[int64]bool) error {
	verr := apply(sl, in)
	var v errs.Invalid
	if in.Lines != nil {
		lines, err := product.BuildLines(ctx, tx, *in.Lines, keep, &v)
		if err != nil {
			return err
		}
		sl.Lines = lines
		if in.AmountFen == nil && len(lines) > 0 {
			sl.AmountFen = product.Sum(lines)
			product.CheckFen(&v, "amount_fen", sl.AmountFen)
		}
	}
	if old == nil && in.AmountFen == nil && len(sl.Lines) == 0 {
		v.Add("amount_fen", "sale.amount_required")
	}
	if err := s.checkCustomer(ctx, tx, a, sl, old, &v); err != nil {
		return err
	}
	if err := s.checkOpportunity(ctx, tx, a, sl, old, &v); err != nil {
		return err
	}
	return JoinInvalid(verr, v.Err(), s.checkOwner(ctx, a, sl, old, in.OwnerID))
}

// checkCustomer: the customer must be one the Actor sees and not deleted.
func (s *Service) checkCustomer(ctx context.Context, tx *sqlx.Tx, a *auth.Actor, sl, old *Sale, v *errs.Invalid) error {
	if sl.CustomerID < 1 || old != nil && old.CustomerID == sl.CustomerID {
		return nil // a bad id was reported by apply
	}
	c, err := s.customers.Get(ctx, tx, a, sl.CustomerID, false)
	if errors.Is(err, customer.ErrNotFound) {
		v.Add("customer_id", "sale.customer_unknown")
		return nil
	}
	if err != nil {
		return err
	}
	sl.CustomerName = c.Name
	return nil
}

func (s *Service) checkOwner(ctx context.Context, a *auth.Actor, sl, old *Sale, ownerID *int64) error {
	if ownerID == nil || old != nil && *ownerID == old.OwnerID {
		return nil
	}
	owner, err := ResolveOwner(ctx, s.people, a, ownerRule, *ownerID)
	if err != nil {
		return err
	}
	sl.OwnerID, sl.DepartmentID = owner.UserID, owner.PrimaryDeptID
	return nil
}

// checkOpportunity: a linked opportunity must be one the Actor sees, of
// the same customer, with no other sale made from it.
func (s *Service) checkOpportunity(ctx context.Context, tx *sqlx.Tx, a *auth.Actor, sl, old *Sale, v *errs.Invalid) error {
	id := sl.OpportunityID
	if id == nil || *id < 1 || v.Has("customer_id") {
		return nil
	}
	if old != nil && old.OpportunityID != nil && *old.OpportunityID == *id && old.CustomerID == sl.CustomerID {
		return nil
	}
	ref, err := s.store.Opportunity(ctx, tx, a, *id)
	switch {
	case errors.Is(err, ErrNotFound):
		v.Add("opportunity_id", "sale.opportunity_unknown")
	case err != nil:
		return err
	case ref.CustomerID != sl.CustomerID:
		v.Add("opportunity_id", "sale.opportunity_other_customer")
	case ref.SaleID != nil && *ref.SaleID != sl.ID:
		v.Add("opportunity_id", "sale.opportunity_has_sale")
	}
	return nil
}

// Delete moves a sale to the recycle bin.
func (s *Service) Delete(ctx context.Context, a *auth.Actor, id int64) error {
	if err := a.Require(PermDelete); err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		sl, err := s.store.Get(ctx, tx, a, id, false)
		if err != nil {
			return err
		}
		if err := s.store.SetDeleted(ctx, tx, id, a.UserID, store.Now()); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.By(a), audit.Entry{Action: audit.ActDelete, Entity: "sale",
			EntityID: id, CustomerID: sl.CustomerID, EntityName: entityName(sl)})
	})
}

// ListDeleted is the recycle bin of sales.
func (s *Service) ListDeleted(ctx context.Context, a *auth.Actor, f Filter) ([]Sale, Totals, error) {
	if err := a.Require(PermManage); err != nil {
		return nil, Totals{}, err
	}
	if err := validFilter(&f); err != nil {
		return nil, Totals{}, err
	}
	out, t, err := s.store.List(ctx, a, f, true)
	MaskAll(a, out, &t)
	return out, t, err
}

// Restore brings a sale back from the recycle bin.
func (s *Service) Restore(ctx context.Context, a *auth.Actor, id int64) (*Sale, error) {
	if err := a.Require(PermManage); err != nil {
		return nil, err
	}
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		sl, err := s.store.Get(ctx, tx, a, id, true)
		if err != nil {
			return err
		}
		if err := s.store.SetDeleted(ctx, tx, id, 0, store.Now()); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.By(a), audit.Entry{Action: audit.ActRestore, Entity: "sale",
			EntityID: id, CustomerID: sl.CustomerID, EntityName: entityName(sl)})
	})
	if err != nil {
		return nil, err
	}
	return s.get(ctx, s.db, a, id)
}
