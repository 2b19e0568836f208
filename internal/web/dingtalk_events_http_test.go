package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dingcrm/crm/dingtalk"
	"github.com/dingcrm/crm/dingtalk/dingtalktest"
	"github.com/dingcrm/crm/internal/apptest"
	"github.com/dingcrm/crm/internal/outbox"
)

// eventsServer starts the CRM with its simulated platform pushing contact
// events to the CRM's own POST /dingtalk/events.
func eventsServer(t *testing.T, engine string) (*apptest.Server, *dingtalktest.Server) {
	t.Helper()
	srv := apptest.StartOn(t, engine)
	if err := srv.App.SubscribeFakeEvents(srv.URL); err != nil {
		t.Fatal(err)
	}
	return srv, srv.App.FakeDingTalk
}

// settle waits until the pushed events are applied and checks every push
// was acknowledged.
func settle(t *testing.T, srv *apptest.Server, fake *dingtalktest.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.App.OrgSync.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	for _, e := range fake.Events() {
		if !e.Delivered {
			t.Fatalf("push %s not acknowledged: %s", e.Type, e.Err)
		}
	}
	if n := count(t, srv, "SELECT COUNT(*) FROM org_events WHERE status <> 'done'"); n != 0 {
		t.Fatalf("%d events not applied", n)
	}
}

// person reads what the CRM holds about a DingTalk person.
func person(t *testing.T, srv *apptest.Server, userid string) string {
	t.Helper()
	var p struct {
		Name   string `db:"name"`
		Title  string `db:"title"`
		Active bool   `db:"active"`
	}
	if err := srv.App.DB.Get(&p, "SELECT name, title, active FROM users WHERE userid = ?", userid); err != nil {
		return "absent"
	}
	var members []struct {
		DT  int64 `db:"dingtalk_id"`
		Mgr bool  `db:"is_manager"`
	}
	srv.App.DB.Select(&members, `SELECT d.dingtalk_id, ud.is_manager FROM user_departments ud
		JOIN departments d ON d.id = ud.department_id JOIN users u ON u.id = ud.user_id
		WHERE u.userid = ? ORDER BY d.dingtalk_id`, userid)
	depts := []string{}
	for _, m := range members {
		s := strconv.FormatInt(m.DT, 10)
		if m.Mgr {
			s += "*"
		}
		depts = append(depts, s)
	}
	var roles []string
	srv.App.DB.Select(&roles, `SELECT r.code FROM user_roles ur JOIN roles r ON r.id = ur.role_id
		JOIN users u ON u.id = ur.user_id WHERE u.userid = ? ORDER BY r.code`, userid)
	return fmt.Sprintf("%s/%s active=%v depts=%v roles=%v", p.Name, p.Title, p.Active, depts, roles)
}

func dept(t *testing.T, srv *apptest.Server, dtID int64) string {
	t.Helper()
	var d struct {
		Name    string `db:"name"`
		Parent  int64  `db:"parent"`
		Removed bool   `db:"removed"`
	}
	if err := srv.App.DB.Get(&d, `SELECT d.name, COALESCE(p.dingtalk_id, 0) AS parent, d.removed_at IS NOT NULL AS removed
		FROM departments d LEFT JOIN departments p ON p.id = d.parent_id WHERE d.dingtalk_id = ?`, dtID); err != nil {
		return "absent"
	}
	return fmt.Sprintf("%s < %d removed=%v", d.Name, d.Parent, d.Removed)
}

// TestDingTalkEventsHTTP: every contact event type, pushed by the fake
// platform through the CRM's real callback, has its effect; check_url is
// answered in time; a redelivered event is acknowledged and not applied
// twice.
func TestDingTalkEventsHTTP(t *testing.T) {
	type step struct {
		name  string
		want  string // the event types pushed
		edit  func(f *dingtalktest.Server) error
		check func(t *testing.T, srv *apptest.Server)
	}
	is := func(t *testing.T, what, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s: %s, want %s", what, got, want)
		}
	}
	steps := []step{
		{"add a person", "user_add_org", func(f *dingtalktest.Server) error {
			return f.AddUser(dingtalktest.User{UserID: "evt1", Name: "事件新人", Title: "销售代表", Mobile: "13900001111",
				DeptIDs: []int64{2}, Inactive: true})
		}, func(t *testing.T, srv *apptest.Server) {
			is(t, "evt1", person(t, srv, "evt1"), "事件新人/销售代表 active=true depts=[2] roles=[sales]")
		}},
		{"modify a person", "user_modify_org", func(f *dingtalktest.Server) error {
			u, _ := f.User("sim_s2")
			u.Title = "高级销售"
			return f.UpdateUser(u)
		}, func(t *testing.T, srv *apptest.Server) {
			is(t, "sim_s2", person(t, srv, "sim_s2"), "刘洋/高级销售 active=true depts=[2] roles=[sales]")
		}},
		{"move a person", "user_dept_change", func(f *dingtalktest.Server) error { return f.MoveUser("sim_s2", 3, 4) },
			func(t *testing.T, srv *apptest.Server) {
				is(t, "sim_s2", person(t, srv, "sim_s2"), "刘洋/高级销售 active=true depts=[3 4] roles=[sales]")
			}},
		{"activate", "user_active_org", func(f *dingtalktest.Server) error { return f.ActivateUser("evt1") },
			func(t *testing.T, srv *apptest.Server) {
				is(t, "evt1", person(t, srv, "evt1"), "事件新人/销售代表 active=true depts=[2] roles=[sales]")
			}},
		{"DingTalk roles", "user_role_change", func(f *dingtalktest.Server) error {
			return f.SetRoles("evt1", dingtalktest.Role{ID: 1, Name: "财务", GroupName: "职务"})
		}, func(t *testing.T, srv *apptest.Server) {
			is(t, "evt1", person(t, srv, "evt1"), "事件新人/销售代表 active=true depts=[2] roles=[sales]")
		}},
		{"create a department", "org_dept_create", func(f *dingtalktest.Server) error {
			return f.AddDepartment(dingtalktest.Department{ID: 20, Name: "大客户部", ParentID: 2, Order: 9})
		}, func(t *testing.T, srv *apptest.Server) {
			is(t, "dept 20", dept(t, srv, 20), "大客户部 < 2 removed=false")
		}},
		{"rename and move a department", "org_dept_modify", func(f *dingtalktest.Server) error {
			return f.UpdateDepartment(dingtalktest.Department{ID: 20, Name: "重点客户部", ParentID: 1, Order: 9})
		}, func(t *testing.T, srv *apptest.Server) {
			is(t, "dept 20", dept(t, srv, 20), "重点客户部 < 1 removed=false")
		}},
		{"a new manager", "user_dept_change org_dept_modify", func(f *dingtalktest.Server) error {
			if err := f.MoveUser("evt1", 20); err != nil {
				return err
			}
			return f.SetDeptManagers(20, "evt1")
		}, func(t *testing.T, srv *apptest.Server) {
			is(t, "evt1", person(t, srv, "evt1"), "事件新人/销售代表 active=true depts=[20*] roles=[manager]")
		}},
		{"a sub-admin", "org_admin_add", func(f *dingtalktest.Server) error { return f.SetAdmin("sim_s4", 2) },
			func(t *testing.T, srv *apptest.Server) {
				is(t, "sim_s4", person(t, srv, "sim_s4"), "杨磊/销售代表 active=true depts=[4] roles=[admin]")
			}},
		{"no longer admin", "org_admin_remove", func(f *dingtalktest.Server) error { return f.SetAdmin("sim_s4", 0) },
			func(t *testing.T, srv *apptest.Server) {
				is(t, "sim_s4", person(t, srv, "sim_s4"), "杨磊/销售代表 active=true depts=[4] roles=[sales]")
			}},
		{"remove a department", "user_dept_change org_dept_modify org_dept_remove", func(f *dingtalktest.Server) error {
			if err := f.MoveUser("evt1", 2); err != nil {
				return err
			}
			if err := f.SetDeptManagers(20); err != nil {
				return err
			}
			return f.RemoveDepartment(20)
		}, func(t *testing.T, srv *apptest.Server) {
			is(t, "dept 20", dept(t, srv, 20), "重点客户部 < 1 removed=true")
			is(t, "evt1", person(t, srv, "evt1"), "事件新人/销售代表 active=true depts=[2] roles=[sales]")
		}},
	}
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv, fake := eventsServer(t, engine)
			start := time.Now()
			if err := fake.CheckCallbackURL(); err != nil || time.Since(start) > 1500*time.Millisecond {
				t.Fatalf("check_url: %v after %s", err, time.Since(start))
			}
			for _, s := range steps {
				t.Run(s.name, func(t *testing.T) {
					before := len(fake.Events())
					if err := s.edit(fake); err != nil {
						t.Fatal(err)
					}
					var types []string
					for _, e := range fake.Events()[before:] {
						types = append(types, e.Type)
					}
					if got := fmt.Sprint(types); got != "["+s.want+"]" {
						t.Fatalf("pushed %s, want [%s]", got, s.want)
					}
					settle(t, srv, fake)
					s.check(t, srv)
				})
			}
			// Redelivery (DingTalk retries a push it thinks failed): the
			// same event id is acknowledged and not applied again.
			last := fake.Events()[len(fake.Events())-1]
			events, audits := count(t, srv, "SELECT COUNT(*) FROM org_events"), count(t, srv, "SELECT COUNT(*) FROM audit_log")
			if st := push(t, srv, srv.App.OrgSync, last.Payload, pushOpts{}); st != 200 {
				t.Fatalf("redelivery: %d", st)
			}
			settle(t, srv, fake)
			if count(t, srv, "SELECT COUNT(*) FROM org_events") != events || count(t, srv, "SELECT COUNT(*) FROM audit_log") != audits {
				t.Error("a redelivered event was applied again")
			}
		})
	}
}

// TestLeaverEventHTTP: user_leave_org ends the leaver's session at once
// (their next request is 401), and hands their customers and open
// opportunities to their department's manager, each move on the
// customer's timeline, nothing deleted.
func TestLeaverEventHTTP(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv, fake := eventsServer(t, engine)
			s1 := srv.Login(t, "sim_s1")
			if st := s1.Do("GET", "/api/v1/me", nil, nil); st != 200 {
				t.Fatalf("me: %d", st)
			}
			leaver, mgr := userIDOf(t, srv, "sim_s1"), userIDOf(t, srv, "sim_mgr1")
			var customers []int64
			srv.App.DB.Select(&customers, "SELECT id FROM customers WHERE owner_id = ? AND deleted_at IS NULL ORDER BY id", leaver)
			if len(customers) == 0 {
				t.Fatal("sim_s1 has no demo customers")
			}
			now := time.Now().UTC()
			if _, err := srv.App.DB.Exec(`INSERT INTO opportunities (customer_id, title, amount_fen, owner_id, department_id,
				stage_id, probability, status, notes, created_by, created_at, updated_at)
				SELECT ?, '续约', 500000, ?, 2, MIN(id), 10, 'open', '', ?, ?, ? FROM opportunity_stages`,
				customers[0], leaver, leaver, now, now); err != nil {
				t.Fatal(err)
			}
			total := count(t, srv, "SELECT COUNT(*) FROM customers") + count(t, srv, "SELECT COUNT(*) FROM opportunities")

			if err := fake.RemoveUser("sim_s1"); err != nil {
				t.Fatal(err)
			}
			settle(t, srv, fake)
			if st := s1.Do("GET", "/api/v1/me", nil, nil); st != 401 {
				t.Fatalf("the leaver's session still works: %d", st)
			}
			if n := count(t, srv, "SELECT COUNT(*) FROM customers WHERE owner_id = ? AND deleted_at IS NULL", leaver); n != 0 {
				t.Errorf("the leaver still owns %d customers", n)
			}
			for _, id := range customers {
				if n := count(t, srv, "SELECT COUNT(*) FROM customers WHERE id = ? AND owner_id = ?", id, mgr); n != 1 {
					t.Errorf("customer %d did not go to sim_mgr1", id)
				}
				if n := count(t, srv, "SELECT COUNT(*) FROM audit_log WHERE customer_id = ? AND entity = 'customer' AND action = 'transfer'", id); n != 1 {
					t.Errorf("customer %d: no handover on its timeline", id)
				}
			}
			if n := count(t, srv, "SELECT COUNT(*) FROM opportunities WHERE owner_id = ? AND status = 'open'", mgr); n != 1 {
				t.Error("the open opportunity did not go to sim_mgr1")
			}
			if n := count(t, srv, "SELECT COUNT(*) FROM customers") + count(t, srv, "SELECT COUNT(*) FROM opportunities"); n != total {
				t.Error("something was deleted")
			}
			if n := count(t, srv, "SELECT COUNT(*) FROM org_handoffs WHERE leaver_id = ? AND to_user_id = ? AND customers = ?",
				leaver, mgr, len(customers)); n != 1 {
				t.Error("the handover is not recorded for notification")
			}
			// The manager is told, by a DingTalk work notice naming the leaver,
			// through the notification outbox.
			d := outbox.NewDispatcher(outbox.Options{DB: srv.App.DB, DingTalk: srv.App.DingTalk, Quiet: outbox.Never,
				Now: func() time.Time { return time.Now().Add(2 * time.Minute) }})
			if _, err := d.Dispatch(context.Background()); err != nil {
				t.Fatal(err)
			}
			told := false
			for _, d := range fake.DeliveriesTo("sim_mgr1") {
				told = told || strings.Contains(d.Text, "王芳") && strings.Contains(d.Text, "交接")
			}
			if !told {
				t.Errorf("sim_mgr1 was not told of the handover: %+v", fake.DeliveriesTo("sim_mgr1"))
			}
			if n := count(t, srv, "SELECT COUNT(*) FROM org_handoffs WHERE leaver_id = ? AND notified_at IS NOT NULL", leaver); n != 1 {
				t.Error("the handover is not marked notified")
			}
			// The manager sees the customers now.
			mgrClient := srv.Login(t, "sim_mgr1")
			if st := mgrClient.Do("GET", fmt.Sprintf("/api/v1/customers/%d", customers[0]), nil, nil); st != 200 {
				t.Errorf("the manager cannot open a handed-over customer: %d", st)
			}
		})
	}
}

type pushOpts struct {
	token     string    // default the CRM's
	owner     string    // default the fake's AppKey
	at        time.Time // default now
	nonce     string    // default random
	encrypt   string    // overrides the encrypted payload
	rawBody   string    // overrides the whole body
	signature string    // overrides the signature
}

// push sends one hand-made event push to the CRM and returns the status.
func push(t *testing.T, srv *apptest.Server, svc interface{ CallbackSettings() (string, string) }, payload []byte, o pushOpts) int {
	t.Helper()
	token, key := svc.CallbackSettings()
	if o.token != "" {
		token = o.token
	}
	if o.owner == "" {
		o.owner = srv.App.FakeDingTalk.AppKey()
	}
	if o.at.IsZero() {
		o.at = time.Now()
	}
	if o.nonce == "" {
		o.nonce = strconv.FormatInt(time.Now().UnixNano(), 36)
	}
	cr, err := dingtalk.NewCrypto(token, key, o.owner)
	if err != nil {
		t.Fatal(err)
	}
	enc := o.encrypt
	if enc == "" {
		if enc, err = cr.Encrypt(payload); err != nil {
			t.Fatal(err)
		}
	}
	ts := strconv.FormatInt(o.at.UnixMilli(), 10)
	sig := o.signature
	if sig == "" {
		sig = cr.Signature(ts, o.nonce, enc)
	}
	body := o.rawBody
	if body == "" {
		b, _ := json.Marshal(map[string]string{"encrypt": enc})
		body = string(b)
	}
	q := url.Values{"signature": {sig}, "timestamp": {ts}, "nonce": {o.nonce}}
	resp, err := http.Post(srv.URL+"/dingtalk/events?"+q.Encode(), "application/json", bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestDingTalkEventRejections: a push with a wrong signature, a stale
// timestamp, a replayed nonce, another app's key, or garbage is refused
// and changes nothing.
func TestDingTalkEventRejections(t *testing.T) {
	leave := []byte(`{"EventType":"user_leave_org","eventId":"evt-reject-1","CorpId":"dingtest_corp","timeStamp":"1","userId":["sim_s2"]}`)
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv, fake := eventsServer(t, engine)
			svc := srv.App.OrgSync
			replayed := pushOpts{nonce: "fixed-nonce-1", at: time.Now()} // the same request twice
			harmless := []byte(`{"EventType":"user_modify_org","eventId":"evt-ok-1","userId":["sim_s3"]}`)
			if st := push(t, srv, svc, harmless, replayed); st != 200 {
				t.Fatalf("a good push: %d", st)
			}
			settle(t, srv, fake)
			events, audits := count(t, srv, "SELECT COUNT(*) FROM org_events"), count(t, srv, "SELECT COUNT(*) FROM audit_log")
			cases := []struct {
				name    string
				payload []byte
				o       pushOpts
				want    int
			}{
				{"wrong signature", leave, pushOpts{token: "not-the-token"}, 403},
				{"forged signature", leave, pushOpts{signature: "0123456789abcdef0123456789abcdef01234567"}, 403},
				{"stale timestamp", leave, pushOpts{at: time.Now().Add(-time.Hour)}, 403},
				{"future timestamp", leave, pushOpts{at: time.Now().Add(time.Hour)}, 403},
				{"replayed nonce", harmless, replayed, 403},
				{"another app's payload", leave, pushOpts{owner: "some_other_appkey"}, 403},
				{"not base64", leave, pushOpts{encrypt: "!!!not-base64!!!"}, 403},
				{"not JSON inside", []byte("garbage"), pushOpts{}, 400},
				{"no event type inside", []byte(`{"userId":["sim_s2"]}`), pushOpts{}, 400},
				{"body not JSON", leave, pushOpts{rawBody: "<xml>garbage</xml>"}, 400},
				{"empty encrypt", leave, pushOpts{rawBody: `{"encrypt":""}`}, 400},
			}
			for _, tc := range cases {
				if st := push(t, srv, svc, tc.payload, tc.o); st != tc.want {
					t.Errorf("%s: %d, want %d", tc.name, st, tc.want)
				}
			}
			settle(t, srv, fake)
			if n := count(t, srv, "SELECT COUNT(*) FROM org_events"); n != events {
				t.Errorf("refused pushes stored %d events", n-events)
			}
			if n := count(t, srv, "SELECT COUNT(*) FROM audit_log"); n != audits {
				t.Errorf("refused pushes wrote %d audit entries", n-audits)
			}
			if got := person(t, srv, "sim_s2"); got != "刘洋/销售代表 active=true depts=[2] roles=[sales]" {
				t.Errorf("sim_s2 after refused pushes: %s", got)
			}
		})
	}
}
