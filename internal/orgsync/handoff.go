package orgsync

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/pool"
	"github.com/dingcrm/crm/internal/reminder"
	"github.com/dingcrm/crm/internal/store"
)

// Handoff is one leaver's handover, as the notifier is told.
type Handoff struct {
	ID         int64
	LeaverID   int64
	LeaverName string
	// ToUserID is the manager who received records: the customers (Mode
	// manager) and the open opportunities; 0 when no manager was found.
	ToUserID int64
	// Mode says where the customers went: manager, or pool (the public pool).
	Mode           string
	CustomerIDs    []int64
	OpportunityIDs []int64
}

// Notifier tells new owners what they received. The notifications issue
// implements it (DingTalk work notice); until then org_handoffs rows with
// notified_at NULL are the record of who must be told.
type Notifier interface {
	HandedOver(ctx context.Context, h Handoff)
}

// leaver is a person who left and still owns records.
type leaver struct {
	ID       int64  `db:"id"`
	Name     string `db:"name"`
	MainDept *int64 `db:"main_department_id"`
}

// handoffPending hands over the records of every leaver who still owns
// live customers or open opportunities. It is safe to run again: whatever
// was moved is no longer theirs.
func (s *Service) handoffPending(ctx context.Context, sum *Summary) error {
	var leavers []leaver
	err := s.db.SelectContext(ctx, &leavers, `SELECT u.id, u.name, u.main_department_id FROM users u
		WHERE u.left_at IS NOT NULL AND u.active = 0 AND (
			EXISTS (SELECT 1 FROM customers c WHERE c.owner_id = u.id AND c.deleted_at IS NULL)
			OR EXISTS (SELECT 1 FROM opportunities o WHERE o.owner_id = u.id AND o.status = 'open' AND o.deleted_at IS NULL))
		ORDER BY u.id`)
	if err != nil {
		return fmt.Errorf("orgsync: find leavers to hand over: %w", err)
	}
	for _, lv := range leavers {
		h, err := s.handoff(ctx, lv)
		if err != nil {
			return err
		}
		sum.CustomersHandedOver += len(h.CustomerIDs)
		sum.OpportunitiesHandedOver += len(h.OpportunityIDs)
	}
	return nil
}

// handoff gives one leaver's live customers to their main department's
// manager (or to the public pool, by setting, or when no manager is found
// up the tree) and their open opportunities to that manager.
func (s *Service) handoff(ctx context.Context, lv leaver) (Handoff, error) {
	h := Handoff{LeaverID: lv.ID, LeaverName: lv.Name, Mode: s.opts.LeaverCustomers}
	succ, err := s.successor(ctx, lv)
	if err != nil {
		return h, err
	}
	if succ == nil || s.opts.LeaverCustomers == LeaverToPool {
		h.Mode = LeaverToPool
		if h.CustomerIDs, err = s.releaseToPool(ctx, lv); err != nil {
			return h, err
		}
	}
	if succ != nil {
		h.ToUserID = succ.UserID
	}
	err = s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		var entries []audit.Entry
		if succ != nil && h.Mode == LeaverToManager {
			ids, e, err := moveCustomers(ctx, tx, lv, succ, s.now())
			if err != nil {
				return err
			}
			h.CustomerIDs, entries = ids, append(entries, e...)
		}
		if succ != nil {
			ids, e, err := moveOpportunities(ctx, tx, lv, succ, s.now())
			if err != nil {
				return err
			}
			h.OpportunityIDs, entries = ids, append(entries, e...)
		}
		if len(h.CustomerIDs)+len(h.OpportunityIDs) == 0 {
			return nil
		}
		if err := audit.RecordBatch(ctx, tx, systemWho, entries); err != nil {
			return err
		}
		return s.recordHandoff(ctx, tx, &h)
	})
	if err != nil {
		return h, err
	}
	if succ == nil {
		s.log.WarnContext(ctx, "orgsync: no manager found for a leaver's open opportunities; they stay with the leaver",
			"leaver", lv.ID)
	}
	if h.ID != 0 && s.opts.Notifier != nil {
		s.opts.Notifier.HandedOver(ctx, h)
	}
	return h, nil
}

// systemWho is the audit actor of automatic changes.
var systemWho = audit.Who{Name: "system"}

// successor finds an active manager of the leaver's main department, or of
// the nearest department above it that has one; nil when there is none.
func (s *Service) successor(ctx context.Context, lv leaver) (*auth.Actor, error) {
	dept := lv.MainDept
	if dept == nil {
		var first []int64
		if err := s.db.SelectContext(ctx, &first, "SELECT department_id FROM user_departments WHERE user_id = ? ORDER BY department_id LIMIT 1", lv.ID); err != nil {
			return nil, fmt.Errorf("orgsync: leaver's department: %w", err)
		}
		if len(first) == 0 {
			return nil, nil
		}
		dept = &first[0]
	}
	seen := map[int64]bool{}
	for dept != nil && !seen[*dept] {
		seen[*dept] = true
		var ids []int64
		err := s.db.SelectContext(ctx, &ids, `SELECT u.id FROM user_departments ud JOIN users u ON u.id = ud.user_id
			WHERE ud.department_id = ? AND ud.is_manager = 1 AND u.active = 1 AND u.id <> ? ORDER BY u.id LIMIT 1`, *dept, lv.ID)
		if err != nil {
			return nil, fmt.Errorf("orgsync: department manager: %w", err)
		}
		if len(ids) > 0 {
			a, err := s.people.Load(ctx, ids[0])
			if err != nil {
				return nil, fmt.Errorf("orgsync: load successor %d: %w", ids[0], err)
			}
			return a, nil
		}
		var parent []sql.NullInt64
		if err := s.db.SelectContext(ctx, &parent, "SELECT parent_id FROM departments WHERE id = ?", *dept); err != nil {
			return nil, fmt.Errorf("orgsync: parent department: %w", err)
		}
		dept = nil
		if len(parent) > 0 && parent[0].Valid {
			dept = &parent[0].Int64
		}
	}
	return nil, nil
}

// releaseToPool returns the leaver's live customers to the public pool
// through the pool service (one audited release each, by the system).
func (s *Service) releaseToPool(ctx context.Context, lv leaver) ([]int64, error) {
	var ids []int64
	if err := s.db.SelectContext(ctx, &ids, "SELECT id FROM customers WHERE owner_id = ? AND deleted_at IS NULL ORDER BY id", lv.ID); err != nil {
		return nil, fmt.Errorf("orgsync: leaver's customers: %w", err)
	}
	reason := "离职交接：" + lv.Name + " 已从钉钉组织离职"
	var moved []int64
	for _, id := range ids {
		err := s.pool.Release(ctx, auth.System(), id, pool.ReleaseInput{Reason: &reason})
		if errors.Is(err, pool.ErrChanged) {
			continue // someone moved it meanwhile
		}
		if err != nil {
			return moved, fmt.Errorf("orgsync: release customer %d: %w", id, err)
		}
		moved = append(moved, id)
	}
	return moved, nil
}

type ownedRow struct {
	ID         int64  `db:"id"`
	Name       string `db:"name"`
	CustomerID int64  `db:"customer_id"`
	DeptID     int64  `db:"department_id"`
}

// moveCustomers gives the leaver's live customers to the successor, one
// audit entry each on the customer's timeline. The pool's cap does not
// apply: a leaver's customers must go somewhere, and the manager can pass
// them on.
func moveCustomers(ctx context.Context, tx *sqlx.Tx, lv leaver, to *auth.Actor, now time.Time) ([]int64, []audit.Entry, error) {
	var rows []ownedRow
	if err := tx.SelectContext(ctx, &rows, `SELECT id, name, id AS customer_id, department_id FROM customers
		WHERE owner_id = ? AND deleted_at IS NULL ORDER BY id`, lv.ID); err != nil {
		return nil, nil, fmt.Errorf("orgsync: leaver's customers: %w", err)
	}
	if err := reown(ctx, tx, "customers", "", rows, lv.ID, to, now, ", owner_since = ?"); err != nil {
		return nil, nil, err
	}
	return entriesFor(rows, "customer", lv, to)
}

// moveOpportunities gives the leaver's open opportunities to the successor.
func moveOpportunities(ctx context.Context, tx *sqlx.Tx, lv leaver, to *auth.Actor, now time.Time) ([]int64, []audit.Entry, error) {
	var rows []ownedRow
	if err := tx.SelectContext(ctx, &rows, `SELECT id, title AS name, customer_id, department_id FROM opportunities
		WHERE owner_id = ? AND status = 'open' AND deleted_at IS NULL ORDER BY id`, lv.ID); err != nil {
		return nil, nil, fmt.Errorf("orgsync: leaver's opportunities: %w", err)
	}
	if err := reown(ctx, tx, "opportunities", " AND status = 'open'", rows, lv.ID, to, now, ""); err != nil {
		return nil, nil, err
	}
	return entriesFor(rows, "opportunity", lv, to)
}

// reown moves rows of table from the leaver to the successor, guarded by
// the owner so a concurrent move is not overwritten.
func reown(ctx context.Context, tx *sqlx.Tx, table, cond string, rows []ownedRow, from int64, to *auth.Actor, now time.Time, extra string) error {
	for chunk := range slices.Chunk(rows, 500) {
		ids := make([]int64, len(chunk))
		for i, r := range chunk {
			ids[i] = r.ID
		}
		args := []any{to.UserID, to.PrimaryDeptID}
		if extra != "" {
			args = append(args, now)
		}
		args = append(args, now, from)
		_, err := tx.ExecContext(ctx, "UPDATE "+table+" SET owner_id = ?, department_id = ?"+extra+
			", updated_at = ?, version = version + 1 WHERE owner_id = ? AND deleted_at IS NULL"+cond+
			" AND id IN ("+store.Placeholders(len(ids))+")", append(args, store.Int64Args(ids)...)...)
		if err != nil {
			return fmt.Errorf("orgsync: hand over %s: %w", table, err)
		}
		if table == "customers" {
			// The customers' pending follow-up reminders go with them (their
			// search-index rows follow by trigger).
			if err := reminder.MoveOwner(ctx, tx, ids, now); err != nil {
				return err
			}
		}
	}
	return nil
}

func entriesFor(rows []ownedRow, entity string, lv leaver, to *auth.Actor) ([]int64, []audit.Entry, error) {
	ids := make([]int64, 0, len(rows))
	entries := make([]audit.Entry, 0, len(rows))
	for _, r := range rows {
		ids = append(ids, r.ID)
		changes := audit.Diff(
			map[string]any{"owner_id": lv.ID, "owner_name": lv.Name, "department_id": r.DeptID},
			map[string]any{"owner_id": to.UserID, "owner_name": to.Name, "department_id": to.PrimaryDeptID})
		changes["reason"] = audit.Change{New: "leaver_handoff"}
		entries = append(entries, audit.Entry{Action: pool.ActTransfer, Entity: entity, EntityID: r.ID,
			EntityName: r.Name, CustomerID: r.CustomerID, Changes: changes})
	}
	return ids, entries, nil
}

// recordHandoff writes the org_handoffs row the notifications read.
func (s *Service) recordHandoff(ctx context.Context, tx *sqlx.Tx, h *Handoff) error {
	res, err := tx.ExecContext(ctx, `INSERT INTO org_handoffs (leaver_id, to_user_id, mode, customers, opportunities, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, h.LeaverID, h.ToUserID, h.Mode, len(h.CustomerIDs), len(h.OpportunityIDs), s.now())
	if err != nil {
		return fmt.Errorf("orgsync: record handoff: %w", err)
	}
	h.ID, err = res.LastInsertId()
	return err
}
