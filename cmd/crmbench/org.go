package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/seed"
	"github.com/dingcrm/crm/internal/store"
)

// benchDept is one department of the benchmark organization: a head office,
// four regions and fifteen teams (20 in all), so dept_tree scopes have a
// real subtree to walk.
type benchDept struct {
	name   string
	parent int // index into benchDepts; -1 for the root
}

var benchDepts = []benchDept{
	{"总部（压测组织）", -1},
	{"华东大区", 0}, {"华北大区", 0}, {"华南大区", 0}, {"西部大区", 0},
	{"上海一组", 1}, {"上海二组", 1}, {"杭州组", 1}, {"南京组", 1},
	{"北京一组", 2}, {"北京二组", 2}, {"天津组", 2}, {"青岛组", 2},
	{"深圳组", 3}, {"广州组", 3}, {"厦门组", 3}, {"长沙组", 3},
	{"成都组", 4}, {"重庆组", 4}, {"西安组", 4},
}

// Shape of the benchmark organization.
const (
	benchUsers   = 200
	firstTeam    = 5 // benchDepts[5:] are teams
	regionsCount = 4
)

// owner is a person who owns customers, with the department their
// records are filed under.
type owner struct {
	ID   int64
	Dept int64
}

// benchPerson is one person to create: role code and department index.
type benchPerson struct {
	role    string
	dept    int
	manager bool
}

// benchPeople returns the 200 people: one admin at head office, a manager
// per region, and salespeople spread evenly over the teams.
func benchPeople() []benchPerson {
	people := []benchPerson{{role: "admin", dept: 0}}
	for r := 1; r <= regionsCount; r++ {
		people = append(people, benchPerson{role: "manager", dept: r, manager: true})
	}
	teams := len(benchDepts) - firstTeam
	for i := 0; len(people) < benchUsers; i++ {
		people = append(people, benchPerson{role: "sales", dept: firstTeam + i%teams})
	}
	return people
}

// createOrg writes the departments, people, memberships and roles, and
// returns every person as a customer owner.
func createOrg(ctx context.Context, db *store.DB, now time.Time) ([]owner, error) {
	var owners []owner
	err := db.WithTx(ctx, func(tx *sqlx.Tx) error {
		deptIDs, err := insertBenchDepts(ctx, tx, now)
		if err != nil {
			return err
		}
		owners, err = insertBenchPeople(ctx, tx, deptIDs, now)
		return err
	})
	return owners, err
}

func insertBenchDepts(ctx context.Context, tx *sqlx.Tx, now time.Time) ([]int64, error) {
	ids := make([]int64, len(benchDepts))
	for i, d := range benchDepts {
		var parent any
		if d.parent >= 0 {
			parent = ids[d.parent]
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO departments (dingtalk_id, name, parent_id, sort_order, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?)`, 90000+i, d.name, parent, i, now, now)
		if err != nil {
			return nil, fmt.Errorf("department %s: %w", d.name, err)
		}
		if ids[i], err = res.LastInsertId(); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

func insertBenchPeople(ctx context.Context, tx *sqlx.Tx, deptIDs []int64, now time.Time) ([]owner, error) {
	r := rand.New(rand.NewPCG(2026, 1127))
	var owners []owner
	for i, p := range benchPeople() {
		userid := fmt.Sprintf("bench_%s_%03d", p.role, i)
		res, err := tx.ExecContext(ctx, `INSERT INTO users (userid, name, mobile, email, title, lang, active, source, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, '', 1, 'dingtalk', ?, ?)`,
			userid, seed.Person(r), fmt.Sprintf("1990000%04d", i), userid+"@example.com", p.role, now, now)
		if err != nil {
			return nil, fmt.Errorf("person %s: %w", userid, err)
		}
		uid, err := res.LastInsertId()
		if err != nil {
			return nil, err
		}
		dept := deptIDs[p.dept]
		if _, err := tx.ExecContext(ctx, "INSERT INTO user_departments (user_id, department_id, is_manager) VALUES (?, ?, ?)",
			uid, dept, p.manager); err != nil {
			return nil, fmt.Errorf("membership %s: %w", userid, err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO user_roles (user_id, role_id) SELECT ?, id FROM roles WHERE code = ?",
			uid, p.role); err != nil {
			return nil, fmt.Errorf("role %s: %w", userid, err)
		}
		owners = append(owners, owner{ID: uid, Dept: dept})
	}
	return owners, nil
}
