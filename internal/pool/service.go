// Package pool is the public pool (公海): customers without an owner, whom
// salespeople claim and managers assign; releasing customers to it, moving
// customers between people (转移, single and bulk), and the reclaim rules
// that return neglected customers to it automatically.
//
// A pool customer is a live row of customers with owner_id = 0 and
// department_id = 0 (see sql/*/00005_pool_duplicates.sql); the customer
// list hides them and the pool lists them, for everyone who may view the
// pool (it is one pool for the whole company, so no data scope applies).
package pool

import (
	"context"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/option"
	"github.com/dingcrm/crm/internal/store"
)

// ActorLoader builds the Actor of a person (to check a recipient is active
// and where their customers are filed).
type ActorLoader interface {
	Load(ctx context.Context, userID int64) (*auth.Actor, error)
}

// Service is what handlers, jobs and the bot call for the pool.
type Service struct {
	db        *store.DB
	customers *customer.Store
	people    ActorLoader
	opts      option.Source
}

// SetOptions makes the per-level reclaim rules follow the company's
// editable level list instead of the built-in one.
func (s *Service) SetOptions(src option.Source) { s.opts = src }

// levels are the customer levels a rule may name (retired ones too: their
// customers are still in the pool).
func (s *Service) levels(ctx context.Context) ([]string, error) {
	if s.opts == nil {
		return customer.Levels, nil
	}
	set, err := s.opts.OptionSet(ctx, option.Levels)
	return set.All, err
}

// NewService wires the pool service.
func NewService(db *store.DB, people ActorLoader) *Service {
	return &Service{db: db, customers: customer.NewStore(db), people: people}
}

const day = 24 * time.Hour

// List returns a page of the pool, searched and filtered like the customer
// list (q, level, status, source, industry, tag, dates, sort, paging).
func (s *Service) List(ctx context.Context, a *auth.Actor, f customer.Filter) ([]Item, int, error) {
	if err := a.Require(PermView); err != nil {
		return nil, 0, err
	}
	lists, err := customer.LoadLists(ctx, s.opts)
	if err != nil {
		return nil, 0, err
	}
	cs, total, err := s.customers.ListPool(ctx, a, f, lists)
	if err != nil {
		return nil, 0, err
	}
	customer.MaskAll(a, cs)
	items, err := s.items(ctx, a, cs)
	return items, total, err
}

// Get returns one customer of the pool.
func (s *Service) Get(ctx context.Context, a *auth.Actor, id int64) (*Item, error) {
	if err := a.Require(PermView); err != nil {
		return nil, err
	}
	c, err := s.customers.GetPool(ctx, s.db, id)
	if errors.Is(err, customer.ErrNotFound) {
		return nil, ErrNotInPool
	}
	if err != nil {
		return nil, err
	}
	customer.Mask(a, c)
	items, err := s.items(ctx, a, []customer.Customer{*c})
	if err != nil {
		return nil, err
	}
	return &items[0], nil
}

// items adds the pool fields, and the cooldown of the person asking.
func (s *Service) items(ctx context.Context, a *auth.Actor, cs []customer.Customer) ([]Item, error) {
	ids := make([]int64, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	info, err := infoOf(ctx, s.db, ids)
	if err != nil {
		return nil, err
	}
	rules, err := loadRules(ctx, s.db)
	if err != nil {
		return nil, err
	}
	now := store.Now()
	out := make([]Item, len(cs))
	for i, c := range cs {
		in := info[c.ID]
		out[i] = Item{Customer: c, PoolEnteredAt: in.PoolEnteredAt, PoolCause: in.PoolCause, PoolReason: in.PoolReason,
			FormerOwnerID: in.FormerOwnerID, FormerOwnerName: in.FormerOwnerName}
		if until := cooldownUntil(rules, in, a.UserID); until != nil && now.Before(*until) {
			out[i].ClaimableFrom = until
		}
	}
	return out, nil
}

// cooldownUntil is when userID may claim again a customer they lost to the
// pool; nil when they were not its former owner.
func cooldownUntil(r *Rules, in poolInfo, userID int64) *time.Time {
	if in.FormerOwnerID != userID || in.PoolEnteredAt == nil || r.ClaimCooldownDays == 0 {
		return nil
	}
	t := in.PoolEnteredAt.Add(time.Duration(r.ClaimCooldownDays) * day)
	return &t
}

// Claim (领取) makes a pool customer the Actor's own, within the cap and
// after the former owner's cooldown.
func (s *Service) Claim(ctx context.Context, a *auth.Actor, id int64) (*customer.Customer, error) {
	if err := a.Require(PermClaim); err != nil {
		return nil, err
	}
	rules, err := loadRules(ctx, s.db)
	if err != nil {
		return nil, err
	}
	err = s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		if err := lockPerson(ctx, tx, s.db, a.UserID); err != nil {
			return err
		}
		c, info, err := s.poolCustomer(ctx, tx, id)
		if err != nil {
			return err
		}
		now := store.Now()
		if until := cooldownUntil(rules, info, a.UserID); until != nil && now.Before(*until) {
			left := int(until.Sub(now)/day) + 1
			return &errs.Error{Kind: errs.KindConflict, Key: "pool.cooldown",
				Args:   map[string]any{"days": rules.ClaimCooldownDays, "left": left},
				Detail: map[string]any{"claimable_from": until.UTC().Format(time.RFC3339)}}
		}
		if err := s.checkCap(ctx, tx, rules, a, 1, ""); err != nil {
			return err
		}
		return s.take(ctx, tx, a, ActClaim, c, a, now)
	})
	if err != nil {
		return nil, err
	}
	c, err := s.customers.Get(ctx, s.db, a, id, false)
	customer.Mask(a, c)
	return c, err
}

// Assign (分配) gives a pool customer to a person within the Actor's scope.
func (s *Service) Assign(ctx context.Context, a *auth.Actor, id int64, in AssignInput) (*customer.Customer, error) {
	if err := a.Require(PermAssign); err != nil {
		return nil, err
	}
	to, err := s.recipient(ctx, a, in.UserID, "user_id")
	if err != nil {
		return nil, err
	}
	rules, err := loadRules(ctx, s.db)
	if err != nil {
		return nil, err
	}
	err = s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		if err := lockPerson(ctx, tx, s.db, to.UserID); err != nil {
			return err
		}
		c, _, err := s.poolCustomer(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := s.checkCap(ctx, tx, rules, to, 1, "user_id"); err != nil {
			return err
		}
		return s.take(ctx, tx, a, ActAssign, c, to, store.Now())
	})
	if err != nil {
		return nil, err
	}
	c, err := s.customers.Get(ctx, s.db, a, id, false)
	customer.Mask(a, c)
	return c, err
}

// poolCustomer reads a live pool customer and its pool fields.
func (s *Service) poolCustomer(ctx context.Context, tx *sqlx.Tx, id int64) (*customer.Customer, poolInfo, error) {
	c, err := s.customers.GetPool(ctx, tx, id)
	if errors.Is(err, customer.ErrNotFound) {
		return nil, poolInfo{}, ErrNotInPool
	}
	if err != nil {
		return nil, poolInfo{}, err
	}
	info, err := infoOf(ctx, tx, []int64{id})
	return c, info[id], err
}

// take moves pool customer c to owner and records it.
func (s *Service) take(ctx context.Context, tx *sqlx.Tx, a *auth.Actor, action string, c *customer.Customer, owner *auth.Actor, now time.Time) error {
	ok, err := fromPool(ctx, tx, c.ID, owner.UserID, owner.PrimaryDeptID, now)
	if err != nil {
		return err
	}
	if !ok {
		return ErrTaken
	}
	return audit.Record(ctx, tx, audit.By(a), audit.Entry{Action: action, Entity: "customer", EntityID: c.ID,
		CustomerID: c.ID, EntityName: c.Name, Changes: ownerChange(0, "", 0, owner.UserID, owner.Name, owner.PrimaryDeptID)})
}

func ownerChange(oldID int64, oldName string, oldDept, newID int64, newName string, newDept int64) map[string]audit.Change {
	return audit.Diff(
		map[string]any{"owner_id": oldID, "owner_name": oldName, "department_id": oldDept},
		map[string]any{"owner_id": newID, "owner_name": newName, "department_id": newDept})
}

// checkCap refuses giving n more customers to p beyond the rules' cap: a
// 409 for one's own claim, a field problem when p was chosen in field.
func (s *Service) checkCap(ctx context.Context, tx *sqlx.Tx, r *Rules, p *auth.Actor, n int, field string) error {
	if r.MaxOwned == 0 || n == 0 {
		return nil
	}
	have, err := countOwned(ctx, tx, p.UserID)
	if err != nil {
		return err
	}
	if have+n <= r.MaxOwned {
		return nil
	}
	if field == "" {
		return &errs.Error{Kind: errs.KindConflict, Key: "pool.cap_reached", Args: map[string]any{"count": have, "max": r.MaxOwned}}
	}
	return errs.InvalidField(field, "pool.cap_reached_user", "name", p.Name, "count", have, "max", r.MaxOwned)
}

// recipient loads the person customers are given to: required, active, and
// within the Actor's scope (a manager gives only to their departments).
func (s *Service) recipient(ctx context.Context, a *auth.Actor, id *int64, field string) (*auth.Actor, error) {
	if id == nil || *id < 1 {
		return nil, errs.InvalidField(field, "validation.required")
	}
	p, err := s.people.Load(ctx, *id)
	if errors.Is(err, errs.ErrUnauthorized) || errors.Is(err, auth.ErrInactive) {
		return nil, errs.InvalidField(field, "validation.owner_inactive")
	}
	if err != nil {
		return nil, err
	}
	if !a.Sees(p.UserID, p.PrimaryDeptID) {
		return nil, errs.InvalidField(field, "validation.owner_out_of_scope")
	}
	return p, nil
}
