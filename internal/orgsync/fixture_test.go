package orgsync_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/dingtalk"
	"github.com/dingcrm/crm/dingtalk/dingtalktest"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/kv"
	"github.com/dingcrm/crm/internal/orgsync"
	"github.com/dingcrm/crm/internal/pool"
	"github.com/dingcrm/crm/internal/seed"
	"github.com/dingcrm/crm/internal/store"
)

// fixture is a migrated database with the built-in roles, a fake DingTalk
// holding an organization, and the sync service between them.
type fixture struct {
	t        *testing.T
	ctx      context.Context
	db       *store.DB
	fake     *dingtalktest.Server
	kv       kv.Store
	sessions *auth.Sessions
	loader   *auth.Loader
	svc      *orgsync.Service
	notified *notifier
}

// notifier records the handoffs it is told about.
type notifier struct {
	mu   sync.Mutex
	seen []orgsync.Handoff
}

func (n *notifier) HandedOver(_ context.Context, h orgsync.Handoff) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.seen = append(n.seen, h)
}

func (n *notifier) all() []orgsync.Handoff {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.seen)
}

func newFixture(t *testing.T, db *store.DB, org *dingtalktest.Org, opts ...func(*orgsync.Options)) *fixture {
	t.Helper()
	ctx := context.Background()
	if err := seed.EnsureRoles(ctx, db); err != nil {
		t.Fatal(err)
	}
	fake := dingtalktest.New(dingtalktest.Options{Org: org, QPS: -1})
	t.Cleanup(fake.Close)
	f := &fixture{t: t, ctx: ctx, db: db, fake: fake, kv: kv.NewMemory(), loader: auth.NewLoader(db), notified: &notifier{}}
	f.sessions = auth.NewSessions(db, f.kv, time.Hour, slog.New(slog.DiscardHandler))
	f.svc = f.service(opts...)
	return f
}

// service builds a sync service on the fixture's database and fake.
func (f *fixture) service(opts ...func(*orgsync.Options)) *orgsync.Service {
	f.t.Helper()
	co := f.fake.ClientOptions()
	co.QPS, co.Burst = 1e6, 1000 // the real pace is the benchmark's business
	dt, err := dingtalk.New(co)
	if err != nil {
		f.t.Fatal(err)
	}
	o := orgsync.Options{CallbackToken: "test-token", CallbackAESKey: testAESKey,
		OwnerKeys: []string{f.fake.AppKey(), f.fake.CorpID()}, Notifier: f.notified, Logger: slog.New(slog.DiscardHandler)}
	for _, fn := range opts {
		fn(&o)
	}
	svc, err := orgsync.New(orgsync.Deps{DB: f.db, DingTalk: dt, KV: f.kv, Sessions: f.sessions, People: f.loader,
		Pool: pool.NewService(f.db, f.loader)}, o)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(svc.Close)
	return svc
}

var testAESKey = dingtalk.GenerateAESKey()

// testOrg is the simulated organization plus a sub-admin (sim_mk1), so
// both admin levels map to 管理员.
func testOrg() *dingtalktest.Org {
	o := dingtalktest.SimulatedOrg()
	o.Admins = append(o.Admins, dingtalktest.Admin{UserID: "sim_mk1", Level: 2})
	return o
}

// sync runs a full sync and returns its summary.
func (f *fixture) sync() *orgsync.Summary {
	f.t.Helper()
	sy, err := f.svc.Run(f.ctx, orgsync.RunOptions{Origin: orgsync.OriginCLI})
	if err != nil {
		f.t.Fatalf("sync: %v", err)
	}
	if sy.Status != orgsync.StatusDone || sy.Summary == nil {
		f.t.Fatalf("sync ended %s (%s)", sy.Status, sy.Error)
	}
	return sy.Summary
}

func (f *fixture) userID(userid string) int64 {
	f.t.Helper()
	var id int64
	if err := f.db.Get(&id, "SELECT id FROM users WHERE userid = ?", userid); err != nil {
		f.t.Fatalf("%s: %v", userid, err)
	}
	return id
}

func (f *fixture) actor(userid string) *auth.Actor {
	f.t.Helper()
	a, err := f.loader.Load(f.ctx, f.userID(userid))
	if err != nil {
		f.t.Fatal(err)
	}
	return a
}

func (f *fixture) count(q string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.db.Get(&n, q, args...); err != nil {
		f.t.Fatalf("%s: %v", q, err)
	}
	return n
}

// customers gives a person n customers and returns their ids.
func (f *fixture) customers(userid string, n int) []int64 {
	f.t.Helper()
	a := f.actor(userid)
	st := customer.NewStore(f.db)
	var ids []int64
	err := f.db.WithTx(f.ctx, func(tx *sqlx.Tx) error {
		for i := range n {
			now := store.Now()
			c := &customer.Customer{Name: fmt.Sprintf("%s的客户%d", userid, i), Tags: []string{}, OwnerID: a.UserID,
				DepartmentID: a.PrimaryDeptID, CreatedBy: a.UserID, CreatedAt: now, UpdatedAt: now}
			if err := st.Insert(f.ctx, tx, c); err != nil {
				return err
			}
			ids = append(ids, c.ID)
		}
		return nil
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return ids
}

// opportunity adds an opportunity of a customer with the given status.
func (f *fixture) opportunity(customerID int64, userid, status string) int64 {
	f.t.Helper()
	a := f.actor(userid)
	now := store.Now()
	res, err := f.db.Exec(`INSERT INTO opportunities (customer_id, title, amount_fen, owner_id, department_id, stage_id,
		probability, status, notes, created_by, created_at, updated_at) VALUES (?, ?, 100000, ?, ?, 1, 10, ?, '', ?, ?, ?)`,
		customerID, "商机-"+status, a.UserID, a.PrimaryDeptID, status, a.UserID, now, now)
	if err != nil {
		f.t.Fatal(err)
	}
	id, _ := res.LastInsertId()
	return id
}

// orgView is an organization in comparable form: what the fake holds
// (expected) or what the database says (got).
type orgView struct {
	Depts  map[int64]string     // DingTalk id → "name < parent DingTalk id"
	People map[string]personRow // userid → person
}

type personRow struct {
	Name, Mobile, Email, Title, JobNumber, UnionID string
	Depts                                          string // "2 3*" (DingTalk ids, * = manager)
	Main                                           int64
	Role                                           string
	Active                                         bool
}

// expected maps the fake organization the way the sync must.
func expected(o *dingtalktest.Org) orgView {
	v := orgView{Depts: map[int64]string{}, People: map[string]personRow{}}
	managers := map[int64][]string{}
	for _, d := range o.Departments {
		v.Depts[d.ID] = fmt.Sprintf("%s < %d", d.Name, d.ParentID)
		managers[d.ID] = d.Managers
	}
	admins := map[string]bool{}
	for _, a := range o.Admins {
		admins[a.UserID] = a.Level > 0
	}
	for _, u := range o.Users {
		var parts []string
		lead := false
		for _, d := range slices.Sorted(slices.Values(u.DeptIDs)) {
			s := fmt.Sprint(d)
			if slices.Contains(managers[d], u.UserID) {
				s += "*"
				lead = true
			}
			parts = append(parts, s)
		}
		role := "sales"
		if admins[u.UserID] {
			role = "admin"
		} else if lead {
			role = "manager"
		}
		v.People[u.UserID] = personRow{Name: u.Name, Mobile: u.Mobile, Email: u.Email, Title: u.Title,
			JobNumber: u.JobNumber, UnionID: u.UnionID, Depts: strings.Join(parts, " "), Main: u.DeptIDs[0],
			Role: role, Active: true}
	}
	return v
}

// inDB reads the organization the database holds (DingTalk people and
// departments not removed).
func inDB(t *testing.T, db *store.DB) orgView {
	t.Helper()
	v := orgView{Depts: map[int64]string{}, People: map[string]personRow{}}
	var depts []struct {
		DT     int64  `db:"dingtalk_id"`
		Name   string `db:"name"`
		Parent int64  `db:"parent"`
	}
	if err := db.Select(&depts, `SELECT d.dingtalk_id, d.name, COALESCE(p.dingtalk_id, 0) AS parent FROM departments d
		LEFT JOIN departments p ON p.id = d.parent_id WHERE d.removed_at IS NULL`); err != nil {
		t.Fatal(err)
	}
	for _, d := range depts {
		v.Depts[d.DT] = fmt.Sprintf("%s < %d", d.Name, d.Parent)
	}
	var people []struct {
		ID       int64   `db:"id"`
		UserID   string  `db:"userid"`
		Name     string  `db:"name"`
		Mobile   *string `db:"mobile"`
		Email    string  `db:"email"`
		Title    string  `db:"title"`
		Job      string  `db:"job_number"`
		UnionID  string  `db:"unionid"`
		Active   bool    `db:"active"`
		MainDept int64   `db:"main_dt"`
	}
	if err := db.Select(&people, `SELECT u.id, u.userid, u.name, u.mobile, u.email, u.title, u.job_number, u.unionid,
		u.active, COALESCE(d.dingtalk_id, 0) AS main_dt FROM users u
		LEFT JOIN departments d ON d.id = u.main_department_id WHERE u.source = 'dingtalk'`); err != nil {
		t.Fatal(err)
	}
	for _, p := range people {
		var members []struct {
			DT  int64 `db:"dingtalk_id"`
			Mgr bool  `db:"is_manager"`
		}
		if err := db.Select(&members, `SELECT d.dingtalk_id, ud.is_manager FROM user_departments ud
			JOIN departments d ON d.id = ud.department_id WHERE ud.user_id = ? ORDER BY d.dingtalk_id`, p.ID); err != nil {
			t.Fatal(err)
		}
		var parts []string
		for _, m := range members {
			s := fmt.Sprint(m.DT)
			if m.Mgr {
				s += "*"
			}
			parts = append(parts, s)
		}
		var roles []string
		if err := db.Select(&roles, `SELECT r.code FROM user_roles ur JOIN roles r ON r.id = ur.role_id
			WHERE ur.user_id = ? ORDER BY r.code`, p.ID); err != nil {
			t.Fatal(err)
		}
		mobile := ""
		if p.Mobile != nil {
			mobile = *p.Mobile
		}
		v.People[p.UserID] = personRow{Name: p.Name, Mobile: mobile, Email: p.Email, Title: p.Title, JobNumber: p.Job,
			UnionID: p.UnionID, Depts: strings.Join(parts, " "), Main: p.MainDept, Role: strings.Join(roles, ","),
			Active: p.Active}
	}
	return v
}

// sameOrg fails the test with every difference between want and got.
func sameOrg(t *testing.T, want, got orgView) {
	t.Helper()
	for _, k := range unionKeys(want.Depts, got.Depts) {
		if want.Depts[k] != got.Depts[k] {
			t.Errorf("department %d: want %q, got %q", k, want.Depts[k], got.Depts[k])
		}
	}
	for _, k := range unionKeys(want.People, got.People) {
		if !reflect.DeepEqual(want.People[k], got.People[k]) {
			t.Errorf("person %s:\n want %+v\n got  %+v", k, want.People[k], got.People[k])
		}
	}
}

func unionKeys[K int64 | string, V any](a, b map[K]V) []K {
	set := map[K]bool{}
	for k := range a {
		set[k] = true
	}
	for k := range b {
		set[k] = true
	}
	out := make([]K, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// writes is what a sync that writes nothing must leave as it was: the row
// counts and newest update times of the organization tables and the log.
func (f *fixture) writes() string {
	f.t.Helper()
	var parts []string
	for _, q := range []string{
		"SELECT COUNT(*) FROM audit_log", "SELECT COUNT(*) FROM users", "SELECT COUNT(*) FROM departments",
		"SELECT COUNT(*) FROM user_departments", "SELECT COUNT(*) FROM user_roles",
		"SELECT COUNT(*) FROM user_departments WHERE is_manager = 1",
	} {
		parts = append(parts, fmt.Sprint(f.count(q)))
	}
	for _, q := range []string{"SELECT MAX(updated_at) FROM users", "SELECT MAX(updated_at) FROM departments"} {
		var t sql.NullString // MAX() of a time: text on SQLite, a time on MySQL
		if err := f.db.Get(&t, q); err != nil {
			f.t.Fatal(err)
		}
		parts = append(parts, t.String)
	}
	return strings.Join(parts, " | ")
}
