package seed

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/store"
)

// SimDept is a department of the simulated organization.
type SimDept struct {
	DingTalkID int64
	Name       string
	Parent     int64 // DingTalk id of the parent; 0 for the root
}

// SimPerson is a person of the simulated organization.
type SimPerson struct {
	UserID  string
	Name    string
	Mobile  string
	Title   string
	Role    string  // admin | manager | sales
	Depts   []int64 // DingTalk department ids; the first is the main one
	Manager bool    // manager of their first department
}

// SimulatedDepartments is the fake organization's tree. The root's name says
// it is simulated, so nobody mistakes it for their real company.
var SimulatedDepartments = []SimDept{
	{1, "星辰科技（模拟钉钉组织）", 0},
	{2, "销售一部", 1},
	{3, "销售二部", 1},
	{4, "华东组", 2},
	{5, "市场部", 1},
}

// SimulatedPeople are the fake organization's dozen people: an admin, two
// department managers and salespeople, one of them in two departments.
var SimulatedPeople = []SimPerson{
	{"sim_admin", "陈静", "13800000001", "系统管理员", "admin", []int64{1}, false},
	{"sim_mgr1", "李强", "13800000002", "销售一部经理", "manager", []int64{2}, true},
	{"sim_mgr2", "赵敏", "13800000003", "销售二部经理", "manager", []int64{3}, true},
	{"sim_s1", "王芳", "13800000004", "销售代表", "sales", []int64{2}, false},
	{"sim_s2", "刘洋", "13800000005", "销售代表", "sales", []int64{2}, false},
	{"sim_s3", "张伟", "13800000006", "销售代表", "sales", []int64{4}, false},
	{"sim_s4", "杨磊", "13800000007", "销售代表", "sales", []int64{4}, false},
	{"sim_s5", "黄丽", "13800000008", "销售代表", "sales", []int64{3}, false},
	{"sim_s6", "周杰", "13800000009", "销售代表", "sales", []int64{3}, false},
	{"sim_s7", "吴霞", "13800000010", "销售代表", "sales", []int64{3}, false},
	{"sim_s8", "郑凯", "13800000011", "大客户销售", "sales", []int64{2, 3}, false},
	{"sim_mk1", "孙悦", "13800000012", "市场专员", "sales", []int64{5}, false},
}

// SimulatedOrg writes the fake organization into an empty database and
// reports whether it did (false when people already exist).
func SimulatedOrg(ctx context.Context, db *store.DB) (bool, error) {
	var n int
	if err := db.GetContext(ctx, &n, "SELECT COUNT(*) FROM users"); err != nil {
		return false, fmt.Errorf("seed: count users: %w", err)
	}
	if n > 0 {
		return false, nil
	}
	err := db.WithTx(ctx, func(tx *sqlx.Tx) error {
		deptIDs := map[int64]int64{}
		if err := insertDepts(ctx, tx, deptIDs); err != nil {
			return err
		}
		return insertPeople(ctx, tx, deptIDs)
	})
	if err != nil {
		return false, err
	}
	return true, nil
}

func insertDepts(ctx context.Context, tx *sqlx.Tx, ids map[int64]int64) error {
	now := store.Now()
	for i, d := range SimulatedDepartments {
		var parent any
		if d.Parent != 0 {
			parent = ids[d.Parent]
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO departments (dingtalk_id, name, parent_id, sort_order, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?)`, d.DingTalkID, d.Name, parent, i, now, now)
		if err != nil {
			return fmt.Errorf("seed: department %s: %w", d.Name, err)
		}
		if ids[d.DingTalkID], err = res.LastInsertId(); err != nil {
			return err
		}
	}
	return nil
}

func insertPeople(ctx context.Context, tx *sqlx.Tx, deptIDs map[int64]int64) error {
	now := store.Now()
	for _, p := range SimulatedPeople {
		res, err := tx.ExecContext(ctx, `INSERT INTO users (userid, name, mobile, email, title, lang, active, source, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, '', 1, 'dingtalk', ?, ?)`, p.UserID, p.Name, p.Mobile, p.UserID+"@example.com", p.Title, now, now)
		if err != nil {
			return fmt.Errorf("seed: person %s: %w", p.Name, err)
		}
		uid, _ := res.LastInsertId()
		for i, d := range p.Depts {
			mgr := p.Manager && i == 0
			if _, err := tx.ExecContext(ctx, "INSERT INTO user_departments (user_id, department_id, is_manager) VALUES (?, ?, ?)",
				uid, deptIDs[d], mgr); err != nil {
				return fmt.Errorf("seed: membership: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO user_roles (user_id, role_id) SELECT ?, id FROM roles WHERE code = ?",
			uid, p.Role); err != nil {
			return fmt.Errorf("seed: role: %w", err)
		}
	}
	return nil
}
