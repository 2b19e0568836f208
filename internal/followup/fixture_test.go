package followup_test

import (
	"context"
	"testing"
	"time"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/deal"
	"github.com/dingcrm/crm/internal/followup"
	"github.com/dingcrm/crm/internal/sale"
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
	followups *followup.Service
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
		followups: followup.NewService(db)}
}

// opportunity creates an opportunity on a customer (for follow-ups that
// link one).
func (f *fixture) opportunity(a *auth.Actor, customerID int64) int64 {
	f.t.Helper()
	cs := customer.NewStore(f.db)
	deals := deal.NewService(f.db, cs, f.loader, sale.NewService(f.db, cs, f.loader, time.UTC))
	title := "跟进关联的机会"
	o, err := deals.Create(f.ctx, a, deal.Input{CustomerID: &customerID, Title: &title})
	if err != nil {
		f.t.Fatal(err)
	}
	return o.ID
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

// log creates a follow-up on customerID at the given time.
func (f *fixture) log(a *auth.Actor, customerID int64, at time.Time, content string, next *time.Time) *followup.Followup {
	f.t.Helper()
	in := followup.Input{CustomerID: &customerID, FollowedAt: ptr(at.Format(time.RFC3339Nano)), Method: ptr("phone"), Content: &content}
	if next != nil {
		in.NextFollowAt = followup.Opt[string]{Set: true, Value: ptr(next.Format(time.RFC3339))}
	}
	fu, err := f.followups.Create(f.ctx, a, in)
	if err != nil {
		f.t.Fatalf("log %q: %v", content, err)
	}
	return fu
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
