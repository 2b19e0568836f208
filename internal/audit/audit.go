// Package audit is the operation log (操作日志): every write records who did
// what to which record, the before and after of each changed field, the
// client IP and the request id, in the same transaction as the write.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/reqctx"
	"github.com/dingcrm/crm/internal/store"
)

// Actions recorded in the log.
const (
	ActCreate      = "create"
	ActUpdate      = "update"
	ActDelete      = "delete"
	ActRestore     = "restore"
	ActLogin       = "login"
	ActLogout      = "logout"
	ActDeactivate  = "deactivate"
	ActActivate    = "activate"
	ActAssignRoles = "assign_roles"
)

// Who is the person acting (id 0 with name "system" for jobs).
type Who struct {
	ID   int64
	Name string
}

// Change is one field's before and after.
type Change struct {
	Old any `json:"old"`
	New any `json:"new"`
}

// Entry is one log record to write.
type Entry struct {
	Action     string
	Entity     string
	EntityID   int64
	EntityName string
	// CustomerID links the entry to a customer's timeline (the customer
	// itself or one of its records); 0 when it is about no customer.
	CustomerID int64
	Changes    map[string]Change
}

// Record writes e inside tx, taking IP, request id and user agent from ctx.
func Record(ctx context.Context, tx sqlx.ExtContext, who Who, e Entry) error {
	meta := reqctx.From(ctx)
	changes := "{}"
	if len(e.Changes) > 0 {
		b, err := json.Marshal(e.Changes)
		if err != nil {
			return fmt.Errorf("audit: encode changes: %w", err)
		}
		changes = string(b)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO audit_log
		(at, actor_id, actor_name, action, entity, entity_id, entity_name, customer_id, changes, ip, request_id, user_agent)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		store.Now(), who.ID, who.Name, e.Action, e.Entity, e.EntityID, truncate(e.EntityName, 200), e.CustomerID,
		changes, truncate(meta.IP, 64), truncate(meta.RequestID, 64),
		truncate(meta.UserAgent, 255))
	if err != nil {
		return fmt.Errorf("audit: record %s %s: %w", e.Action, e.Entity, err)
	}
	return nil
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// Diff compares two field maps and returns the changed fields. A create is
// Diff(nil, after); a delete is Diff(before, nil).
func Diff(before, after map[string]any) map[string]Change {
	out := map[string]Change{}
	names := map[string]bool{}
	for k := range before {
		names[k] = true
	}
	for k := range after {
		names[k] = true
	}
	for k := range names {
		o, n := normalize(before[k]), normalize(after[k])
		if !reflect.DeepEqual(o, n) {
			out[k] = Change{Old: o, New: n}
		}
	}
	return out
}

// normalize makes values comparable and JSON-friendly: times in UTC RFC 3339,
// nil pointers as nil, pointed-to values dereferenced.
func normalize(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	case *time.Time:
		if x == nil {
			return nil
		}
		return x.UTC().Format(time.RFC3339)
	case []string:
		s := append([]string(nil), x...)
		sort.Strings(s)
		if len(s) == 0 {
			return nil
		}
		return s
	case string:
		if x == "" {
			return nil
		}
		return x
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil
		}
		return normalize(rv.Elem().Interface())
	}
	return v
}

// By is the Who of a signed-in person (or the system Actor of a job).
func By(a *auth.Actor) Who { return Who{ID: a.UserID, Name: a.Name} }
