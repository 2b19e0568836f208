package orgsync

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/store"
)

// applier writes one plan inside one transaction.
type applier struct {
	tx      *sqlx.Tx
	l       *local
	pl      *plan
	now     time.Time
	entries []audit.Entry
	// after runs once the transaction committed (session cache drops).
	after []func()
	// left are the local ids of people deactivated as leavers.
	left []int64
}

// apply writes the plan: departments first (people refer to them), then
// mobiles taken from their former holders, new people, changed people,
// leavers, and one audit entry per department and person changed.
func (s *Service) apply(ctx context.Context, tx *sqlx.Tx, pl *plan, l *local, who audit.Who) (*applier, error) {
	a := &applier{tx: tx, l: l, pl: pl, now: s.now()}
	steps := []func(context.Context) error{a.insertDepts, a.updateDepts, a.setParents, a.removeDepts,
		a.clearMobiles, a.insertPeople, a.updatePeople, func(ctx context.Context) error { return a.deactivate(ctx, s.sessions) }}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return nil, err
		}
	}
	if err := audit.RecordBatch(ctx, tx, who, a.entries); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *applier) insertDepts(ctx context.Context) error {
	// DingTalk id order, so an empty database numbers departments as
	// DingTalk does (the simulated organization keeps its ids).
	slices.SortFunc(a.pl.newDepts, func(x, y deptChange) int { return int(x.want.DingTalkID - y.want.DingTalkID) })
	for i := range a.pl.newDepts {
		dc := &a.pl.newDepts[i]
		res, err := a.tx.ExecContext(ctx, `INSERT INTO departments (dingtalk_id, name, parent_id, sort_order, created_at, updated_at)
			VALUES (?, ?, NULL, ?, ?, ?)`, dc.want.DingTalkID, dc.want.Name, dc.want.Order, a.now, a.now)
		if err != nil {
			return fmt.Errorf("orgsync: add department %s: %w", dc.want.Name, err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		dtID := dc.want.DingTalkID
		dc.d = &localDept{ID: id, DingTalkID: &dtID, Name: dc.want.Name, SortOrder: dc.want.Order}
		a.l.depts[dtID], a.l.deptByID[id] = dc.d, dc.d
		a.entries = append(a.entries, audit.Entry{Action: audit.ActCreate, Entity: "department", EntityID: id,
			EntityName: dc.want.Name, Changes: audit.Diff(nil, map[string]any{"name": dc.want.Name,
				"dingtalk_id": dtID, "parent_dingtalk_id": dc.want.ParentID})})
	}
	return nil
}

func (a *applier) updateDepts(ctx context.Context) error {
	for _, dc := range a.pl.changedDepts {
		_, err := a.tx.ExecContext(ctx, `UPDATE departments SET name = ?, sort_order = ?, removed_at = NULL, updated_at = ?
			WHERE id = ?`, dc.want.Name, dc.want.Order, a.now, dc.d.ID)
		if err != nil {
			return fmt.Errorf("orgsync: update department %d: %w", dc.d.ID, err)
		}
		dc.d.Name, dc.d.SortOrder, dc.d.RemovedAt = dc.want.Name, dc.want.Order, nil
		a.entries = append(a.entries, audit.Entry{Action: audit.ActUpdate, Entity: "department", EntityID: dc.d.ID,
			EntityName: dc.want.Name, Changes: dc.changes})
	}
	return nil
}

// setParents links new departments and moved ones to their parents, once
// every department has its local id.
func (a *applier) setParents(ctx context.Context) error {
	for _, group := range [][]deptChange{a.pl.newDepts, a.pl.changedDepts} {
		for _, dc := range group {
			if _, moved := dc.changes["parent_dingtalk_id"]; dc.changes != nil && !moved {
				continue
			}
			var parent any
			if p := a.l.depts[dc.want.ParentID]; p != nil && dc.want.ParentID != 0 {
				parent = p.ID
			}
			if _, err := a.tx.ExecContext(ctx, "UPDATE departments SET parent_id = ? WHERE id = ?", parent, dc.d.ID); err != nil {
				return fmt.Errorf("orgsync: link department %d: %w", dc.d.ID, err)
			}
		}
	}
	return nil
}

func (a *applier) removeDepts(ctx context.Context) error {
	for _, d := range a.pl.removedDepts {
		if _, err := a.tx.ExecContext(ctx, "UPDATE departments SET removed_at = ?, updated_at = ? WHERE id = ?",
			a.now, a.now, d.ID); err != nil {
			return fmt.Errorf("orgsync: remove department %d: %w", d.ID, err)
		}
		a.entries = append(a.entries, audit.Entry{Action: audit.ActDelete, Entity: "department", EntityID: d.ID,
			EntityName: d.Name, Changes: map[string]audit.Change{"removed": {Old: false, New: true}}})
	}
	return nil
}

func (a *applier) clearMobiles(ctx context.Context) error {
	if len(a.pl.clearMobiles) == 0 {
		return nil
	}
	ids := a.pl.clearMobiles
	_, err := a.tx.ExecContext(ctx, "UPDATE users SET mobile = NULL, updated_at = ? WHERE id IN ("+
		store.Placeholders(len(ids))+")", append([]any{a.now}, store.Int64Args(ids)...)...)
	if err != nil {
		return fmt.Errorf("orgsync: free mobiles: %w", err)
	}
	return nil
}

// deptID is the local id of a DingTalk department (nil when unknown).
func (a *applier) deptID(dtID int64) *int64 {
	if d := a.l.depts[dtID]; d != nil {
		return &d.ID
	}
	return nil
}

func (a *applier) mainDept(p Person) *int64 {
	for _, id := range p.DeptIDs {
		if d := a.l.depts[id]; d != nil && d.RemovedAt == nil {
			return &d.ID
		}
	}
	return nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// insertPeople adds new people with multi-row INSERTs (a first sync of a
// large organization writes thousands).
func (a *applier) insertPeople(ctx context.Context) error {
	if len(a.pl.added) == 0 {
		return nil
	}
	cols := []string{"userid", "name", "mobile", "email", "title", "lang", "active", "source", "created_at", "updated_at",
		"unionid", "avatar", "job_number", "hired_at", "main_department_id", "admin_level", "roles_manual"}
	rows := make([][]any, 0, len(a.pl.added))
	ids := make([]string, 0, len(a.pl.added))
	for _, pc := range a.pl.added {
		p := pc.want
		rows = append(rows, []any{p.UserID, p.Name, nullString(p.Mobile), p.Email, p.Title, "", true, "dingtalk",
			a.now, a.now, p.UnionID, p.Avatar, p.JobNumber, p.HiredAt, a.mainDept(p), p.AdminLevel, false})
		ids = append(ids, p.UserID)
	}
	if err := insertRows(ctx, a.tx, "users", cols, rows); err != nil {
		return err
	}
	local, err := a.idsOf(ctx, ids)
	if err != nil {
		return err
	}
	var members, roles [][]any
	for _, pc := range a.pl.added {
		id := local[pc.want.UserID]
		for _, dt := range pc.want.DeptIDs {
			if mgr, ok := pc.members[dt]; ok {
				members = append(members, []any{id, *a.deptID(dt), mgr})
			}
		}
		roles = append(roles, []any{id, a.l.roleIDs[pc.role]})
		ch := pc.fields
		ch["department_ids"] = audit.Change{New: a.localDeptIDs(pc.members)}
		ch["roles"] = audit.Change{New: []string{pc.role}}
		a.entries = append(a.entries, audit.Entry{Action: audit.ActCreate, Entity: "user", EntityID: id,
			EntityName: pc.want.Name, Changes: ch})
	}
	if err := insertRows(ctx, a.tx, "user_departments", []string{"user_id", "department_id", "is_manager"}, members); err != nil {
		return err
	}
	return insertRows(ctx, a.tx, "user_roles", []string{"user_id", "role_id"}, roles)
}

// idsOf maps userids to the local ids just given.
func (a *applier) idsOf(ctx context.Context, userIDs []string) (map[string]int64, error) {
	out := make(map[string]int64, len(userIDs))
	for chunk := range slices.Chunk(userIDs, 500) {
		var rows []struct {
			ID     int64  `db:"id"`
			UserID string `db:"userid"`
		}
		if err := a.tx.SelectContext(ctx, &rows, "SELECT id, userid FROM users WHERE userid IN ("+
			store.Placeholders(len(chunk))+")", stringArgs(chunk)...); err != nil {
			return nil, fmt.Errorf("orgsync: ids of new people: %w", err)
		}
		for _, r := range rows {
			out[r.UserID] = r.ID
		}
	}
	return out, nil
}

// localDeptIDs lists the local ids of DingTalk departments, sorted.
func (a *applier) localDeptIDs(members map[int64]bool) []int64 {
	out := []int64{}
	for dt := range members {
		if id := a.deptID(dt); id != nil {
			out = append(out, *id)
		}
	}
	slices.Sort(out)
	return out
}

func (a *applier) updatePeople(ctx context.Context) error {
	for _, pc := range a.pl.changed {
		if err := a.updatePerson(ctx, pc); err != nil {
			return err
		}
	}
	return nil
}

func (a *applier) updatePerson(ctx context.Context, pc *personChange) error {
	lp, p := pc.l, pc.want
	_, err := a.tx.ExecContext(ctx, `UPDATE users SET userid = ?, source = 'dingtalk', name = ?, mobile = ?, email = ?,
		title = ?, unionid = ?, avatar = ?, job_number = ?, hired_at = ?, main_department_id = ?, admin_level = ?,
		roles_manual = ?, active = ?, left_at = ?, deactivated_at = CASE WHEN ? THEN NULL ELSE deactivated_at END,
		updated_at = ? WHERE id = ?`,
		p.UserID, p.Name, nullString(p.Mobile), p.Email, p.Title, p.UnionID, p.Avatar, p.JobNumber, p.HiredAt,
		a.mainDept(p), p.AdminLevel, lp.RolesManual || pc.adopt, lp.Active || pc.reactivate,
		leftAt(lp, pc.reactivate), pc.reactivate, a.now, lp.ID)
	if err != nil {
		return fmt.Errorf("orgsync: update %s: %w", p.UserID, err)
	}
	ch := pc.fields
	if pc.members != nil {
		if err := a.replaceMembers(ctx, lp, pc); err != nil {
			return err
		}
		ch["department_ids"] = audit.Change{Old: sortedKeys(lp.members), New: a.localDeptIDs(pc.members)}
		ch["managed_department_ids"] = audit.Change{Old: managed(lp.members), New: a.managedIDs(pc.members)}
	}
	if pc.role != "" {
		if err := a.replaceRoles(ctx, lp.ID, pc.role); err != nil {
			return err
		}
		a.entries = append(a.entries, audit.Entry{Action: audit.ActAssignRoles, Entity: "user", EntityID: lp.ID,
			EntityName: p.Name, Changes: map[string]audit.Change{"roles": {Old: lp.roles, New: []string{pc.role}}}})
	}
	if pc.reactivate {
		a.entries = append(a.entries, audit.Entry{Action: audit.ActActivate, Entity: "user", EntityID: lp.ID,
			EntityName: p.Name, Changes: map[string]audit.Change{"active": {Old: false, New: true}}})
	}
	if len(ch) > 0 {
		a.entries = append(a.entries, audit.Entry{Action: audit.ActUpdate, Entity: "user", EntityID: lp.ID,
			EntityName: p.Name, Changes: ch})
	}
	return nil
}

func leftAt(lp *localPerson, reactivate bool) *time.Time {
	if reactivate {
		return nil
	}
	return lp.LeftAt
}

func (a *applier) replaceMembers(ctx context.Context, lp *localPerson, pc *personChange) error {
	if _, err := a.tx.ExecContext(ctx, "DELETE FROM user_departments WHERE user_id = ?", lp.ID); err != nil {
		return fmt.Errorf("orgsync: clear departments of %d: %w", lp.ID, err)
	}
	var rows [][]any
	for _, dt := range pc.want.DeptIDs {
		if mgr, ok := pc.members[dt]; ok {
			rows = append(rows, []any{lp.ID, *a.deptID(dt), mgr})
		}
	}
	return insertRows(ctx, a.tx, "user_departments", []string{"user_id", "department_id", "is_manager"}, rows)
}

func (a *applier) replaceRoles(ctx context.Context, userID int64, role string) error {
	if _, err := a.tx.ExecContext(ctx, "DELETE FROM user_roles WHERE user_id = ?", userID); err != nil {
		return fmt.Errorf("orgsync: clear roles of %d: %w", userID, err)
	}
	if _, err := a.tx.ExecContext(ctx, "INSERT INTO user_roles (user_id, role_id) VALUES (?, ?)", userID, a.l.roleIDs[role]); err != nil {
		return fmt.Errorf("orgsync: set role of %d: %w", userID, err)
	}
	return nil
}

func (a *applier) managedIDs(members map[int64]bool) []int64 {
	out := []int64{}
	for dt, mgr := range members {
		if id := a.deptID(dt); mgr && id != nil {
			out = append(out, *id)
		}
	}
	slices.Sort(out)
	return out
}

func sortedKeys(m map[int64]bool) []int64 {
	out := []int64{}
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func managed(m map[int64]bool) []int64 {
	out := []int64{}
	for k, mgr := range m {
		if mgr {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// deactivate ends leavers: inactive, left_at set, sessions revoked in this
// transaction (their next request is refused; the session cache entries are
// dropped after commit).
func (a *applier) deactivate(ctx context.Context, sessions SessionRevoker) error {
	for _, lp := range a.pl.deactivate {
		_, err := a.tx.ExecContext(ctx, `UPDATE users SET active = 0, left_at = ?,
			deactivated_at = COALESCE(deactivated_at, ?), updated_at = ? WHERE id = ?`, a.now, a.now, a.now, lp.ID)
		if err != nil {
			return fmt.Errorf("orgsync: deactivate %s: %w", lp.UserID, err)
		}
		after, err := sessions.RevokeUser(ctx, a.tx, lp.ID)
		if err != nil {
			return err
		}
		a.after = append(a.after, after)
		a.left = append(a.left, lp.ID)
		a.entries = append(a.entries, audit.Entry{Action: audit.ActDeactivate, Entity: "user", EntityID: lp.ID,
			EntityName: lp.Name, Changes: map[string]audit.Change{"active": {Old: lp.Active, New: false},
				"reason": {New: "left_dingtalk"}}})
	}
	return nil
}

// insertRows writes rows with multi-row INSERTs, a few hundred at a time
// (within both engines' limits on bound values).
func insertRows(ctx context.Context, tx *sqlx.Tx, table string, cols []string, rows [][]any) error {
	per := min(500, 30000/len(cols))
	one := "(" + store.Placeholders(len(cols)) + ")"
	for chunk := range slices.Chunk(rows, per) {
		args := make([]any, 0, len(chunk)*len(cols))
		for _, r := range chunk {
			args = append(args, r...)
		}
		q := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES " +
			strings.TrimSuffix(strings.Repeat(one+", ", len(chunk)), ", ")
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("orgsync: insert into %s: %w", table, err)
		}
	}
	return nil
}
