package deal

import (
	"context"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/option"
	"github.com/dingcrm/crm/internal/paging"
	"github.com/dingcrm/crm/internal/product"
	"github.com/dingcrm/crm/internal/sale"
	"github.com/dingcrm/crm/internal/store"
)

// The permissions of opportunities.
const (
	PermView   auth.Perm = "opportunity.view"
	PermCreate auth.Perm = "opportunity.create"
	PermEdit   auth.Perm = "opportunity.edit"
	PermDelete auth.Perm = "opportunity.delete"
	PermAssign auth.Perm = "opportunity.assign"
	PermManage auth.Perm = "opportunity.manage" // stages, recycle bin
)

var ownerRule = sale.OwnerRule{Assign: PermAssign, CannotKey: "deal.cannot_assign"}

// Service is what handlers call for opportunities, stages and the pipeline.
type Service struct {
	db        *store.DB
	store     *Store
	customers sale.Customers
	people    sale.People
	sales     *sale.Service
	opts      option.Source
}

// SetOptions makes lost reasons come from src (the company's editable
// list) instead of the built-in ones.
func (s *Service) SetOptions(src option.Source) { s.opts = src }

func (s *Service) lostReasons(ctx context.Context) (option.Set, error) {
	if s.opts == nil {
		return option.Fixed(LostReasons), nil
	}
	return s.opts.OptionSet(ctx, option.LostReasons)
}

// NewService wires the deal service; sales records the sale of a won
// opportunity in the same transaction.
func NewService(db *store.DB, customers sale.Customers, people sale.People, sales *sale.Service) *Service {
	return &Service{db: db, store: NewStore(db), customers: customers, people: people, sales: sales}
}

// List returns a page of opportunities in the Actor's scope.
func (s *Service) List(ctx context.Context, a *auth.Actor, f Filter) ([]Opportunity, int, error) {
	if err := a.Require(PermView); err != nil {
		return nil, 0, err
	}
	if err := validFilter(&f); err != nil {
		return nil, 0, err
	}
	out, total, err := s.store.List(ctx, a, f, false)
	MaskAll(a, out)
	return out, total, err
}

// Get returns one opportunity in the Actor's scope.
func (s *Service) Get(ctx context.Context, a *auth.Actor, id int64) (*Opportunity, error) {
	if err := a.Require(PermView); err != nil {
		return nil, err
	}
	return s.get(ctx, s.db, a, id)
}

// Create adds an opportunity, in the first open stage unless told which.
func (s *Service) Create(ctx context.Context, a *auth.Actor, in Input) (*Opportunity, error) {
	if err := a.Require(PermCreate); err != nil {
		return nil, err
	}
	now := store.Now()
	o := &Opportunity{OwnerID: a.UserID, DepartmentID: a.PrimaryDeptID, CreatedBy: a.UserID, CreatedAt: now, UpdatedAt: now}
	if in.CustomerID == nil {
		in.CustomerID = new(int64) // so "required" is reported
	}
	if in.Title == nil {
		in.Title = new(string)
	}
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := s.check(ctx, tx, a, o, nil, in, nil); err != nil {
			return err
		}
		if err := s.store.Insert(ctx, tx, o); err != nil {
			return err
		}
		if err := s.store.AddHistory(ctx, tx, o.ID, 0, o.StageID, a.UserID, now); err != nil {
			return err
		}
		if o.Status == StatusWon {
			if err := s.customers.RecordWin(ctx, tx, audit.By(a), o.CustomerID, now); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, audit.By(a), audit.Entry{Action: audit.ActCreate, Entity: "opportunity",
			EntityID: o.ID, CustomerID: o.CustomerID, EntityName: o.Title, Changes: audit.Diff(nil, o.auditFields())})
	})
	if err != nil {
		return nil, err
	}
	return s.get(ctx, s.db, a, o.ID)
}

// Update applies a partial edit if the Actor saw the latest version. A new
// stage_id is a stage change: recorded in the stage history and the log.
func (s *Service) Update(ctx context.Context, a *auth.Actor, id int64, in Input) (*Opportunity, error) {
	if err := a.Require(PermEdit); err != nil {
		return nil, err
	}
	if in.Version == nil {
		return nil, errs.InvalidField("version", "validation.required")
	}
	keepAmount(a, &in)
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		o, err := s.store.Get(ctx, tx, a, id, false)
		if err != nil {
			return err
		}
		if o.Version != *in.Version {
			return ErrStale
		}
		before, old := o.auditFields(), *o
		moved, err := s.check(ctx, tx, a, o, &old, in, product.ProductIDs(o.Lines))
		if err != nil {
			return err
		}
		changes := audit.Diff(before, o.auditFields())
		if len(changes) == 0 {
			return nil
		}
		o.UpdatedAt = store.Now()
		_, linesChanged := changes["lines"]
		if ok, err := s.store.Update(ctx, tx, o, linesChanged); err != nil || !ok {
			return staleOr(err)
		}
		if moved {
			if err := s.store.AddHistory(ctx, tx, o.ID, old.StageID, o.StageID, a.UserID, o.UpdatedAt); err != nil {
				return err
			}
			if o.Status == StatusWon {
				if err := s.customers.RecordWin(ctx, tx, audit.By(a), o.CustomerID, o.UpdatedAt); err != nil {
					return err
				}
			}
		}
		return audit.Record(ctx, tx, audit.By(a), audit.Entry{Action: audit.ActUpdate, Entity: "opportunity",
			EntityID: o.ID, CustomerID: o.CustomerID, EntityName: o.Title, Changes: changes})
	})
	if err != nil {
		return nil, err
	}
	return s.get(ctx, s.db, a, id)
}

// Move is the kanban drag: a stage change with the version seen. Into the
// won stage the opportunity is won; into the lost stage it needs a reason.
func (s *Service) Move(ctx context.Context, a *auth.Actor, id int64, in MoveInput) (*Opportunity, error) {
	var v errs.Invalid
	if in.StageID == nil {
		v.Add("stage_id", "validation.required")
	}
	if in.Version == nil {
		v.Add("version", "validation.required")
	}
	if err := v.Err(); err != nil {
		if aerr := a.Require(PermEdit); aerr != nil {
			return nil, aerr
		}
		return nil, err
	}
	return s.Update(ctx, a, id, Input{StageID: in.StageID, Version: in.Version, LostReason: in.LostReason,
		Probability: in.Probability})
}

func staleOr(err error) error {
	if err != nil {
		return err
	}
	return ErrStale
}

// Delete moves an opportunity to the recycle bin.
func (s *Service) Delete(ctx context.Context, a *auth.Actor, id int64) error {
	if err := a.Require(PermDelete); err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		o, err := s.store.Get(ctx, tx, a, id, false)
		if err != nil {
			return err
		}
		if err := s.store.SetDeleted(ctx, tx, id, a.UserID, store.Now()); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.By(a), audit.Entry{Action: audit.ActDelete, Entity: "opportunity",
			EntityID: id, CustomerID: o.CustomerID, EntityName: o.Title})
	})
}

// ListDeleted is the recycle bin of opportunities.
func (s *Service) ListDeleted(ctx context.Context, a *auth.Actor, f Filter) ([]Opportunity, int, error) {
	if err := a.Require(PermManage); err != nil {
		return nil, 0, err
	}
	if err := validFilter(&f); err != nil {
		return nil, 0, err
	}
	out, total, err := s.store.List(ctx, a, f, true)
	MaskAll(a, out)
	return out, total, err
}

// Restore brings an opportunity back from the recycle bin.
func (s *Service) Restore(ctx context.Context, a *auth.Actor, id int64) (*Opportunity, error) {
	if err := a.Require(PermManage); err != nil {
		return nil, err
	}
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		o, err := s.store.Get(ctx, tx, a, id, true)
		if err != nil {
			return err
		}
		if err := s.store.SetDeleted(ctx, tx, id, 0, store.Now()); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.By(a), audit.Entry{Action: audit.ActRestore, Entity: "opportunity",
			EntityID: id, CustomerID: o.CustomerID, EntityName: o.Title})
	})
	if err != nil {
		return nil, err
	}
	return s.get(ctx, s.db, a, id)
}

// History is an opportunity's stage changes, newest first.
func (s *Service) History(ctx context.Context, a *auth.Actor, id int64, page, size int) ([]HistoryItem, int, error) {
	if _, err := s.Get(ctx, a, id); err != nil {
		return nil, 0, err
	}
	var v errs.Invalid
	paging.Check(&v, &page, &size)
	if err := v.Err(); err != nil {
		return nil, 0, err
	}
	return s.store.History(ctx, id, page, size)
}
