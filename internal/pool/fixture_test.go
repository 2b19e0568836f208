package pool_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/pool"
	"github.com/dingcrm/crm/internal/seed"
	"github.com/dingcrm/crm/internal/store"
)

// fixture is a migrated database with the simulated organization (no demo
// customers) and the services under test.
type fixture struct {
	t         *testing.T
	ctx       context.Context
	db        *store.DB
	loader    *auth.Loader
	customers *customer.Service
	pool      *pool.Service
	n         int
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	if err := seed.EnsureRoles(ctx, db); err != nil {
		t.Fatal(err)
	}
	if _, err := seed.SimulatedOrg(ctx, db); err != nil {
		t.Fatal(err)
	}
	loader := auth.NewLoader(db)
	return &fixture{t: t, ctx: ctx, db: db, loader: loader,
		customers: customer.NewService(db, customer.NewStore(db), loader, audit.NewService(db)),
		pool:      pool.NewService(db, loader)}
}

// actor loads a simulated person by DingTalk userid ("sim_s1").
func (f *fixture) actor(userid string) *auth.Actor {
	f.t.Helper()
	a, err := f.loader.Load(f.ctx, f.userID(userid))
	if err != nil {
		f.t.Fatal(err)
	}
	return a
}

func (f *fixture) userID(userid string) int64 {
	f.t.Helper()
	var id int64
	if err := f.db.Get(&id, "SELECT id FROM users WHERE userid = ?", userid); err != nil {
		f.t.Fatalf("%s: %v", userid, err)
	}
	return id
}

// customer creates a customer owned by a, with a unique name.
func (f *fixture) customer(a *auth.Actor) *customer.Customer {
	f.t.Helper()
	f.n++
	name := fmt.Sprintf("公海测试%d", f.n)
	c, err := f.customers.Create(f.ctx, a, customer.Input{Name: &name})
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// owner reads a customer's owner id (0 in the pool).
func (f *fixture) owner(id int64) int64 {
	f.t.Helper()
	var o int64
	if err := f.db.Get(&o, "SELECT owner_id FROM customers WHERE id = ?", id); err != nil {
		f.t.Fatal(err)
	}
	return o
}

// audits counts the log entries with this action about a customer.
func (f *fixture) audits(action string, customerID int64) int {
	var n int
	f.db.Get(&n, "SELECT COUNT(*) FROM audit_log WHERE action = ? AND customer_id = ?", action, customerID)
	return n
}

// snapshot is everything a refused request must leave as it was.
func (f *fixture) snapshot() string {
	var owners string
	var audits int
	rows, err := f.db.Query("SELECT id, owner_id, version FROM customers ORDER BY id")
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, owner, version int64
		rows.Scan(&id, &owner, &version)
		owners += fmt.Sprintf("%d:%d:%d ", id, owner, version)
	}
	f.db.Get(&audits, "SELECT COUNT(*) FROM audit_log")
	return fmt.Sprintf("%s| %d audits", owners, audits)
}

// setRules replaces the pool rules as the admin, starting from the current ones.
func (f *fixture) setRules(change func(in *pool.RulesInput)) {
	f.t.Helper()
	admin := f.actor("sim_admin")
	r, err := f.pool.Rules(f.ctx, admin)
	if err != nil {
		f.t.Fatal(err)
	}
	in := pool.RulesInput{MaxOwned: &r.MaxOwned, ClaimCooldownDays: &r.ClaimCooldownDays, WarnDays: &r.WarnDays,
		NoFollowDays: r.NoFollowDays, NoFollowDaysDefault: &r.NoFollowDaysDefault, NoDealDays: &r.NoDealDays,
		ReclaimEnabled: &r.ReclaimEnabled, Version: &r.Version}
	change(&in)
	if _, err := f.pool.SetRules(f.ctx, admin, in); err != nil {
		f.t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// wantKind fails unless err is a domain error of kind (and, when field is
// set, names that field).
func wantKind(t *testing.T, what string, err error, kind errs.Kind, field string) {
	t.Helper()
	if errs.KindOf(err) != kind {
		t.Fatalf("%s: %v, want kind %d", what, err, kind)
	}
	if field != "" {
		e := err.(*errs.Error)
		if _, ok := e.Fields[field]; !ok {
			t.Fatalf("%s: fields %v lack %q", what, e.Fields, field)
		}
	}
}
