package role

import (
	"context"
	"crypto/rand"
	"encoding/hex"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/store"
)

// permManage is role.manage, the permission to change roles.
const permManage auth.Perm = "role.manage"

// Service is 权限管理: reading needs role.view, changing role.manage.
type Service struct {
	db    *store.DB
	store Store
}

// NewService returns the role service on db.
func NewService(db *store.DB) *Service { return &Service{db: db} }

// Catalog returns the modules, actions and scopes a role is made of.
func (s *Service) Catalog(ctx context.Context, a *auth.Actor) (Catalog, error) {
	if err := a.Require(auth.RoleView); err != nil {
		return Catalog{}, err
	}
	return Catalog{Modules: auth.Modules, Actions: auth.Actions, Scopes: auth.Scopes, Fields: auth.Fields, Modes: auth.FieldModes}, nil
}

// List returns every role with its holder count.
func (s *Service) List(ctx context.Context, a *auth.Actor) ([]Role, error) {
	if err := a.Require(auth.RoleView); err != nil {
		return nil, err
	}
	return s.store.List(ctx, s.db)
}

// Get reads one role.
func (s *Service) Get(ctx context.Context, a *auth.Actor, id int64) (*Role, error) {
	if err := a.Require(auth.RoleView); err != nil {
		return nil, err
	}
	return s.store.Get(ctx, s.db, id)
}

// Create adds a role.
func (s *Service) Create(ctx context.Context, a *auth.Actor, in Input) (*Role, error) {
	if err := a.Require(permManage); err != nil {
		return nil, err
	}
	r := &Role{}
	if err := apply(r, in, true); err != nil {
		return nil, err
	}
	return s.insert(ctx, a, r, nil)
}

// Copy adds a role with the permissions and scope of role id under a new name.
func (s *Service) Copy(ctx context.Context, a *auth.Actor, id int64, in CopyInput) (*Role, error) {
	if err := a.Require(permManage); err != nil {
		return nil, err
	}
	src, err := s.store.Get(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	name := ""
	if in.Name != nil {
		name = *in.Name
	}
	r := &Role{DataScope: src.DataScope, Permissions: src.Permissions, FieldPolicy: src.FieldPolicy}
	if err := apply(r, Input{Name: &name}, false); err != nil {
		return nil, err
	}
	return s.insert(ctx, a, r, src)
}

func (s *Service) insert(ctx context.Context, a *auth.Actor, r *Role, from *Role) (*Role, error) {
	r.Code = newCode()
	r.CreatedAt = store.Now()
	r.UpdatedAt = r.CreatedAt
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		if err := s.checkName(ctx, tx, r.Name, 0); err != nil {
			return err
		}
		if err := s.store.Insert(ctx, tx, r); err != nil {
			return mapUnique(err)
		}
		changes := audit.Diff(nil, r.fields())
		if from != nil {
			changes["copied_from"] = audit.Change{New: from.Name}
		}
		return audit.Record(ctx, tx, audit.By(a), audit.Entry{Action: audit.ActCreate, Entity: "role",
			EntityID: r.ID, EntityName: r.Name, Changes: changes})
	})
	if err != nil {
		return nil, err
	}
	return s.store.Get(ctx, s.db, r.ID)
}

// Update renames a role or changes its permissions or scope.
func (s *Service) Update(ctx context.Context, a *auth.Actor, id int64, in Input) (*Role, error) {
	if err := a.Require(permManage); err != nil {
		return nil, err
	}
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		before, err := s.store.Get(ctx, tx, id)
		if err != nil {
			return err
		}
		if before.Locked {
			return ErrAdminLocked
		}
		after := *before
		if err := apply(&after, in, false); err != nil {
			return err
		}
		if err := s.checkName(ctx, tx, after.Name, id); err != nil {
			return err
		}
		changes := audit.Diff(before.fields(), after.fields())
		if len(changes) == 0 {
			return nil
		}
		after.UpdatedAt = store.Now()
		if err := s.store.Update(ctx, tx, &after); err != nil {
			return mapUnique(err)
		}
		return audit.Record(ctx, tx, audit.By(a), audit.Entry{Action: audit.ActUpdate, Entity: "role",
			EntityID: id, EntityName: after.Name, Changes: changes})
	})
	if err != nil {
		return nil, err
	}
	return s.store.Get(ctx, s.db, id)
}

// Delete removes a custom role nobody holds.
func (s *Service) Delete(ctx context.Context, a *auth.Actor, id int64) error {
	if err := a.Require(permManage); err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		r, err := s.store.Get(ctx, tx, id)
		switch {
		case err != nil:
			return err
		case r.Locked:
			return ErrAdminLocked
		case r.Builtin:
			return ErrBuiltin
		case r.UserCount > 0:
			return errInUse(r.UserCount)
		}
		ok, err := s.store.Delete(ctx, tx, id)
		if err != nil {
			return err
		}
		if !ok { // assigned between the read and the delete
			return errInUse(1)
		}
		return audit.Record(ctx, tx, audit.By(a), audit.Entry{Action: audit.ActDelete, Entity: "role",
			EntityID: id, EntityName: r.Name, Changes: audit.Diff(r.fields(), nil)})
	})
}

func (s *Service) checkName(ctx context.Context, tx *sqlx.Tx, name string, id int64) error {
	taken, err := s.store.NameTaken(ctx, tx, name, id)
	if err != nil {
		return err
	}
	if taken {
		return errDuplicateName
	}
	return nil
}

var errDuplicateName = errs.InvalidField("name", "role.duplicate_name")

// mapUnique turns the unique index on roles.name (a concurrent create or
// rename with the same name) into the duplicate-name answer.
func mapUnique(err error) error {
	if store.IsUniqueViolation(err) {
		return errDuplicateName
	}
	return err
}

// newCode is a custom role's stable code; the built-in roles have theirs.
func newCode() string {
	b := make([]byte, 6)
	rand.Read(b)
	return "custom_" + hex.EncodeToString(b)
}
