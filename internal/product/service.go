package product

import (
	"context"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/store"
)

// The permissions of the catalogue: everyone who sells may look, admins
// (product.manage) keep it.
const (
	PermView   auth.Perm = "product.view"
	PermManage auth.Perm = "product.manage"
)

// errNameTaken is a duplicate name, a field problem rather than a 500.
var errNameTaken = errs.InvalidField("name", "product.name_taken")

// Service is what handlers call for the catalogue.
type Service struct {
	db    *store.DB
	store *Store
}

// NewService wires the product service.
func NewService(db *store.DB) *Service { return &Service{db: db, store: NewStore(db)} }

// List returns a page of the catalogue.
func (s *Service) List(ctx context.Context, a *auth.Actor, f Filter) ([]Product, int, error) {
	if err := a.Require(PermView); err != nil {
		return nil, 0, err
	}
	if err := validFilter(&f); err != nil {
		return nil, 0, err
	}
	return s.store.List(ctx, f)
}

// Get returns one product.
func (s *Service) Get(ctx context.Context, a *auth.Actor, id int64) (*Product, error) {
	if err := a.Require(PermView); err != nil {
		return nil, err
	}
	return s.store.Get(ctx, s.db, id)
}

// Create adds a product (active unless said otherwise).
func (s *Service) Create(ctx context.Context, a *auth.Actor, in Input) (*Product, error) {
	if err := a.Require(PermManage); err != nil {
		return nil, err
	}
	now := store.Now()
	p := &Product{Active: true, CreatedAt: now, UpdatedAt: now}
	if in.Name == nil {
		in.Name = new(string) // so "required" is reported
	}
	if err := apply(p, in); err != nil {
		return nil, err
	}
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		if err := s.checkName(ctx, tx, p); err != nil {
			return err
		}
		if err := s.store.Insert(ctx, tx, p); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.By(a), audit.Entry{Action: audit.ActCreate, Entity: "product",
			EntityID: p.ID, EntityName: p.Name, Changes: audit.Diff(nil, p.auditFields())})
	})
	if err != nil {
		return nil, err
	}
	return s.store.Get(ctx, s.db, p.ID)
}

// Update edits a product if the caller saw its latest version; setting
// active to false takes it out of the pickers (停用) without touching the
// records that name it.
func (s *Service) Update(ctx context.Context, a *auth.Actor, id int64, in Input) (*Product, error) {
	if err := a.Require(PermManage); err != nil {
		return nil, err
	}
	if in.Version == nil {
		return nil, errs.InvalidField("version", "validation.required")
	}
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		p, err := s.store.Get(ctx, tx, id)
		if err != nil {
			return err
		}
		if p.Version != *in.Version {
			return ErrStale
		}
		before := p.auditFields()
		if err := apply(p, in); err != nil {
			return err
		}
		changes := audit.Diff(before, p.auditFields())
		if len(changes) == 0 {
			return nil
		}
		if _, renamed := changes["name"]; renamed {
			if err := s.checkName(ctx, tx, p); err != nil {
				return err
			}
		}
		p.UpdatedAt = store.Now()
		if ok, err := s.store.Update(ctx, tx, p); err != nil || !ok {
			return staleOr(err)
		}
		return audit.Record(ctx, tx, audit.By(a), audit.Entry{Action: audit.ActUpdate, Entity: "product",
			EntityID: p.ID, EntityName: p.Name, Changes: changes})
	})
	if err != nil {
		return nil, err
	}
	return s.store.Get(ctx, s.db, id)
}

func staleOr(err error) error {
	if err != nil {
		return err
	}
	return ErrStale
}

func (s *Service) checkName(ctx context.Context, tx *sqlx.Tx, p *Product) error {
	taken, err := s.store.NameTaken(ctx, tx, p.Name, p.ID)
	if err != nil {
		return err
	}
	if taken {
		return errNameTaken
	}
	return nil
}
