package contact_test

import (
	"context"
	"testing"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/contact"
	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/seed"
	"github.com/dingcrm/crm/internal/store"
)

// fixture is a migrated database with the simulated organization and the
// services under test.
type fixture struct {
	t         *testing.T
	ctx       context.Context
	db        *store.DB
	loader    *auth.Loader
	customers *customer.Service
	contacts  *contact.Service
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
		contacts:  contact.NewService(db, customer.NewStore(db))}
}

// actor loads a simulated person by DingTalk userid ("sim_s1").
func (f *fixture) actor(userid string) *auth.Actor {
	f.t.Helper()
	var id int64
	if err := f.db.Get(&id, "SELECT id FROM users WHERE userid = ?", userid); err != nil {
		f.t.Fatalf("%s: %v", userid, err)
	}
	a, err := f.loader.Load(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return a
}

func (f *fixture) customer(a *auth.Actor, name string) *customer.Customer {
	f.t.Helper()
	c, err := f.customers.Create(f.ctx, a, customer.Input{Name: &name})
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

func (f *fixture) contact(a *auth.Actor, in contact.Input) *contact.Contact {
	f.t.Helper()
	c, err := f.contacts.Create(f.ctx, a, in)
	if err != nil {
		f.t.Fatalf("create contact %v: %v", in.Name, err)
	}
	return c
}

// count runs a COUNT(*) query.
func (f *fixture) count(q string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.db.Get(&n, q, args...); err != nil {
		f.t.Fatal(err)
	}
	return n
}

func ptr[T any](v T) *T { return &v }
