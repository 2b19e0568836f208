// Package saletest sets up what the sale and deal tests share: the
// simulated organization with its people as Actors, customers and products.
package saletest

import (
	"context"
	"testing"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/product"
	"github.com/dingcrm/crm/internal/seed"
	"github.com/dingcrm/crm/internal/store"
)

// Org is the simulated organization on a test database.
type Org struct {
	DB     *store.DB
	Loader *auth.Loader
	ids    map[string]int64
}

// NewOrg seeds the roles and the simulated organization into db.
func NewOrg(t testing.TB, db *store.DB) *Org {
	t.Helper()
	ctx := context.Background()
	if err := seed.EnsureRoles(ctx, db); err != nil {
		t.Fatal(err)
	}
	if _, err := seed.SimulatedOrg(ctx, db); err != nil {
		t.Fatal(err)
	}
	var rows []struct {
		ID     int64  `db:"id"`
		UserID string `db:"userid"`
	}
	if err := db.SelectContext(ctx, &rows, "SELECT id, userid FROM users"); err != nil {
		t.Fatal(err)
	}
	o := &Org{DB: db, Loader: auth.NewLoader(db), ids: map[string]int64{}}
	for _, r := range rows {
		o.ids[r.UserID] = r.ID
	}
	return o
}

// ID is a simulated person's user id ("sim_s1" → 4).
func (o *Org) ID(userid string) int64 { return o.ids[userid] }

// As is the Actor of a simulated person, as a request would build it.
func (o *Org) As(t testing.TB, userid string) *auth.Actor {
	t.Helper()
	a, err := o.Loader.Load(context.Background(), o.ids[userid])
	if err != nil {
		t.Fatalf("load %s: %v", userid, err)
	}
	return a
}

// Without is a copy of a with some permissions taken away.
func Without(a *auth.Actor, perms ...auth.Perm) *auth.Actor {
	c := *a
	c.Perms = map[auth.Perm]bool{}
	for p, ok := range a.Perms {
		c.Perms[p] = ok
	}
	for _, p := range perms {
		delete(c.Perms, p)
	}
	return &c
}

// Customer adds a customer owned by userid and returns its id.
func (o *Org) Customer(t testing.TB, userid, name string) int64 {
	t.Helper()
	svc := customer.NewService(o.DB, customer.NewStore(o.DB), o.Loader, audit.NewService(o.DB))
	c, err := svc.Create(context.Background(), o.As(t, userid), customer.Input{Name: &name})
	if err != nil {
		t.Fatalf("customer %s: %v", name, err)
	}
	return c.ID
}

// Product adds an active catalogue product and returns its id.
func (o *Org) Product(t testing.TB, name string, priceFen int64) int64 {
	t.Helper()
	p, err := product.NewService(o.DB).Create(context.Background(), o.As(t, "sim_admin"),
		product.Input{Name: &name, UnitPriceFen: &priceFen})
	if err != nil {
		t.Fatalf("product %s: %v", name, err)
	}
	return p.ID
}

// Deactivate marks a person inactive (left the company).
func (o *Org) Deactivate(t testing.TB, userid string) {
	t.Helper()
	if _, err := o.DB.Exec("UPDATE users SET active = 0 WHERE id = ?", o.ids[userid]); err != nil {
		t.Fatal(err)
	}
}

// Count is the number of rows of a table (for "nothing was written").
func (o *Org) Count(t testing.TB, table string) int {
	t.Helper()
	var n int
	if err := o.DB.Get(&n, "SELECT COUNT(*) FROM "+table); err != nil {
		t.Fatal(err)
	}
	return n
}

// Counts are the row counts of several tables.
func (o *Org) Counts(t testing.TB, tables ...string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, tb := range tables {
		out[tb] = o.Count(t, tb)
	}
	return out
}

// AuditEntry is one operation-log row as the tests check it.
type AuditEntry struct {
	Action     string `db:"action"`
	EntityID   int64  `db:"entity_id"`
	CustomerID int64  `db:"customer_id"`
	Changes    string `db:"changes"`
}

// Audit returns the log entries about one record, oldest first.
func (o *Org) Audit(t testing.TB, entity string, id int64) []AuditEntry {
	t.Helper()
	var out []AuditEntry
	err := o.DB.Select(&out, "SELECT action, entity_id, customer_id, changes FROM audit_log WHERE entity = ? AND entity_id = ? ORDER BY id",
		entity, id)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
