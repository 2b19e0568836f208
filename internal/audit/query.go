package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/paging"
	"github.com/dingcrm/crm/internal/store"
)

// Item is one log record as read back.
type Item struct {
	ID         int64             `json:"id" db:"id"`
	At         time.Time         `json:"at" db:"at"`
	ActorID    int64             `json:"actor_id" db:"actor_id"`
	ActorName  string            `json:"actor_name" db:"actor_name"`
	Action     string            `json:"action" db:"action"`
	Entity     string            `json:"entity" db:"entity"`
	EntityID   int64             `json:"entity_id" db:"entity_id"`
	EntityName string            `json:"entity_name" db:"entity_name"`
	CustomerID int64             `json:"customer_id" db:"customer_id"`
	RawChanges string            `json:"-" db:"changes"`
	Changes    map[string]Change `json:"changes" db:"-"`
	IP         string            `json:"ip" db:"ip"`
	RequestID  string            `json:"request_id" db:"request_id"`
	UserAgent  string            `json:"user_agent" db:"user_agent"`
}

// Filter narrows the log.
type Filter struct {
	ActorID int64
	Action  string
	// Actions, when set, selects any of these actions (the login log).
	Actions  []string
	Entity   string
	EntityID int64
	// CustomerID selects a customer's whole history (its timeline).
	CustomerID int64
	From, To   *time.Time
	Page       int
	PageSize   int
}

// Service reads the operation log.
type Service struct{ db *store.DB }

// NewService returns the audit reader.
func NewService(db *store.DB) *Service { return &Service{db: db} }

// List returns matching entries, newest first, and the total count. Only
// holders of audit.view may read it.
func (s *Service) List(ctx context.Context, a *auth.Actor, f Filter) ([]Item, int, error) {
	if err := a.Require(auth.AuditView); err != nil {
		return nil, 0, err
	}
	items, total, err := s.list(ctx, f)
	MaskItems(a, items)
	return items, total, err
}

// Timeline returns one customer's history, newest first. The caller has
// already checked that the customer is within the person's scope; seeing a
// customer means seeing what happened to it.
func (s *Service) Timeline(ctx context.Context, customerID int64, page, size int) ([]Item, int, error) {
	return s.list(ctx, Filter{CustomerID: customerID, Page: page, PageSize: size})
}

func (s *Service) list(ctx context.Context, f Filter) ([]Item, int, error) {
	var v errs.Invalid
	paging.Check(&v, &f.Page, &f.PageSize)
	if f.From != nil && f.To != nil && f.To.Before(*f.From) {
		v.Add("to", "validation.range_order")
	}
	if err := v.Err(); err != nil {
		return nil, 0, err
	}
	var where []string
	var args []any
	add := func(cond string, v any) { where = append(where, cond); args = append(args, v) }
	if f.ActorID > 0 {
		add("actor_id = ?", f.ActorID)
	}
	if f.Action != "" {
		add("action = ?", f.Action)
	}
	if len(f.Actions) > 0 {
		where = append(where, "action IN ("+store.Placeholders(len(f.Actions))+")")
		for _, a := range f.Actions {
			args = append(args, a)
		}
	}
	if f.Entity != "" {
		add("entity = ?", f.Entity)
	}
	if f.EntityID > 0 {
		add("entity_id = ?", f.EntityID)
	}
	if f.CustomerID > 0 {
		add("customer_id = ?", f.CustomerID)
	}
	if f.From != nil {
		add("at >= ?", f.From.UTC())
	}
	if f.To != nil {
		add("at < ?", f.To.UTC())
	}
	cond := "1 = 1"
	if len(where) > 0 {
		cond = strings.Join(where, " AND ")
	}
	var total int
	if err := s.db.GetContext(ctx, &total, "SELECT COUNT(*) FROM audit_log WHERE "+cond, args...); err != nil {
		return nil, 0, fmt.Errorf("audit: count: %w", err)
	}
	items := []Item{}
	q := `SELECT id, at, actor_id, actor_name, action, entity, entity_id, entity_name, customer_id, changes, ip, request_id, user_agent
		FROM audit_log WHERE ` + cond + ` ORDER BY id DESC LIMIT ? OFFSET ?`
	if err := s.db.SelectContext(ctx, &items, q, append(args, f.PageSize, (f.Page-1)*f.PageSize)...); err != nil {
		return nil, 0, fmt.Errorf("audit: list: %w", err)
	}
	for i := range items {
		items[i].Changes = map[string]Change{}
		json.Unmarshal([]byte(items[i].RawChanges), &items[i].Changes)
	}
	return items, total, nil
}
