package web_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dingcrm/crm/internal/apptest"
)

type jobJSON struct {
	Name            string   `json:"name"`
	Schedule        string   `json:"schedule"`
	DefaultSchedule string   `json:"default_schedule"`
	Enabled         bool     `json:"enabled"`
	NextRunAt       *string  `json:"next_run_at"`
	LastRun         *runJSON `json:"last_run"`
}

type runJSON struct {
	ID            int64            `json:"id"`
	Job           string           `json:"job"`
	Origin        string           `json:"origin"`
	Outcome       string           `json:"outcome"`
	Summary       string           `json:"summary"`
	Counts        map[string]int64 `json:"counts"`
	Error         string           `json:"error"`
	StartedByName string           `json:"started_by_name"`
}

// waitRun polls a job's runs until the newest has ended.
func waitRun(t *testing.T, c *apptest.Client, name string) runJSON {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		var out struct {
			Items []runJSON `json:"items"`
		}
		if st := c.Do("GET", "/api/v1/jobs/"+name+"/runs", nil, &out); st != 200 {
			t.Fatalf("runs of %s: %d", name, st)
		}
		if len(out.Items) > 0 && out.Items[0].Outcome != "running" {
			return out.Items[0]
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not finish", name)
	return runJSON{}
}

// TestJobsAPI: the admin sees every job with its schedule, changes one (an
// invalid cron is a localized 400), runs one now and sees the run in the
// history; a salesperson may do none of it.
func TestJobsAPI(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			admin := srv.Login(t, "sim_admin")
			var list struct {
				Items []jobJSON `json:"items"`
			}
			if st := admin.Do("GET", "/api/v1/jobs", nil, &list); st != 200 {
				t.Fatalf("list: %d", st)
			}
			byName := map[string]jobJSON{}
			for _, j := range list.Items {
				byName[j.Name] = j
			}
			for name, spec := range map[string]string{"team-summary": "0 18 * * *", "weekly-summary": "0 9 * * 1",
				"org-sync": "0 2 * * *", "pool-reclaim": "30 1 * * *", "cleanup": "15 3 * * *"} {
				if j, ok := byName[name]; !ok || j.Schedule != spec || !j.Enabled || j.NextRunAt == nil {
					t.Errorf("%s: %+v", name, j)
				}
			}

			for lang, want := range map[string]string{"zh-CN": "执行时间格式不正确", "en": "Invalid schedule"} {
				admin.Lang = lang
				var e errJSON
				if st := admin.Do("PATCH", "/api/v1/jobs/cleanup", map[string]any{"schedule": "every night"}, &e); st != 400 ||
					!strings.Contains(e.Error.Fields["schedule"], want) {
					t.Errorf("%s: bad cron: %d %+v", lang, st, e)
				}
			}
			admin.Lang = ""
			if st := admin.Do("PATCH", "/api/v1/jobs/cleanup", map[string]any{"schedule": "0 4 * * *", "bogus": 1}, nil); st != 400 {
				t.Errorf("unknown field: %d", st)
			}
			var j jobJSON
			if st := admin.Do("PATCH", "/api/v1/jobs/cleanup", map[string]any{"schedule": "0 4 * * *"}, &j); st != 200 ||
				j.Schedule != "0 4 * * *" || j.DefaultSchedule != "15 3 * * *" {
				t.Errorf("patch: %d %+v", st, j)
			}
			if st := admin.Do("PATCH", "/api/v1/jobs/nope", map[string]any{"enabled": false}, nil); st != 404 {
				t.Errorf("unknown job: %d", st)
			}

			var run runJSON
			if st := admin.Do("POST", "/api/v1/jobs/cleanup/run", nil, &run); st != 202 || run.Outcome != "running" ||
				run.Origin != "manual" || run.StartedByName != "陈静" {
				t.Fatalf("run: %d %+v", st, run)
			}
			done := waitRun(t, admin, "cleanup")
			if done.ID != run.ID || done.Outcome != "ok" || !strings.Contains(done.Summary, "expired sessions") {
				t.Errorf("finished run: %+v", done)
			}
			if st := admin.Do("GET", "/api/v1/jobs", nil, &list); st != 200 {
				t.Fatal(st)
			}
			for _, j := range list.Items {
				if j.Name == "cleanup" && (j.LastRun == nil || j.LastRun.ID != run.ID) {
					t.Errorf("last run not shown: %+v", j)
				}
			}
			if st := admin.Do("POST", "/api/v1/jobs/nope/run", nil, nil); st != 404 {
				t.Errorf("run unknown job: %d", st)
			}

			s1 := srv.Login(t, "sim_s1")
			for _, req := range []struct{ method, path string }{{"GET", "/api/v1/jobs"}, {"GET", "/api/v1/jobs/cleanup/runs"},
				{"PATCH", "/api/v1/jobs/cleanup"}, {"POST", "/api/v1/jobs/cleanup/run"}} {
				if st := s1.Do(req.method, req.path, map[string]any{"enabled": false}, nil); st != 403 {
					t.Errorf("salesperson %s %s: %d", req.method, req.path, st)
				}
			}
		})
	}
}

// TestGroupRobotSummaries: an admin sets the 销售一部 group robot (the
// secret never comes back), its test message arrives signed, the
// team-summary job posts the team's day to it once however often it runs,
// and a wrong secret is reported by the test button.
func TestGroupRobotSummaries(t *testing.T) {
	srv := apptest.Start(t)
	fake := srv.App.FakeDingTalk
	admin := srv.Login(t, "sim_admin")
	dept := deptID(t, admin, "销售一部")
	const secret = "SEC0123456789abcdef0123456789abcdef"
	hook := fake.AddWebhookRobot("tok-team1-abcdefgh", secret)

	var r struct {
		Webhook string `json:"webhook"`
		Secret  struct {
			Set    bool   `json:"set"`
			Masked string `json:"masked"`
		} `json:"secret"`
		Enabled bool `json:"enabled"`
	}
	path := fmt.Sprintf("/api/v1/robots/%d", dept)
	if st := admin.Do("PUT", path, map[string]any{"webhook": "ftp://x", "secret": "nope"}, nil); st != 400 {
		t.Errorf("bad webhook and secret: %d", st)
	}
	if st := admin.Do("PUT", path, map[string]any{"name": "一部群", "webhook": hook, "secret": secret}, &r); st != 200 ||
		!r.Secret.Set || r.Secret.Masked != "••••••cdef" || strings.Contains(r.Webhook, "tok-team1") || !r.Enabled {
		t.Fatalf("put: %d %+v", st, r)
	}
	var raw json.RawMessage
	admin.Do("GET", "/api/v1/robots", nil, &raw)
	if strings.Contains(string(raw), secret) || strings.Contains(string(raw), "tok-team1-abcdefgh") {
		t.Errorf("a secret leaked: %s", raw)
	}
	var test struct {
		OK bool `json:"ok"`
	}
	if st := admin.Do("POST", path+"/test", nil, &test); st != 200 || !test.OK {
		t.Fatalf("test: %d %+v", st, test)
	}
	webhookMsgs := func() []string {
		var out []string
		for _, m := range fake.RobotMessages() {
			if m.Kind == "webhook" && m.WebhookToken == "tok-team1-abcdefgh" {
				out = append(out, string(m.Body))
			}
		}
		return out
	}
	if n := len(webhookMsgs()); n != 1 {
		t.Fatalf("%d test messages", n)
	}
	// The group's members are salespeople: with the 销售 role's amounts
	// hidden, the team's daily summary in the group carries no amount.
	setSalesPolicy := func(policy string) {
		if _, err := srv.App.DB.Exec("UPDATE roles SET field_policy = ? WHERE code = 'sales'", policy); err != nil {
			t.Fatal(err)
		}
	}
	setSalesPolicy(`{"sale.amount":"hidden","opportunity.amount":"masked"}`)
	for range 2 {
		if st := admin.Do("POST", "/api/v1/jobs/team-summary/run", nil, nil); st != 202 {
			t.Fatal(st)
		}
		if run := waitRun(t, admin, "team-summary"); run.Outcome != "ok" {
			t.Fatalf("team-summary: %+v", run)
		}
	}
	// Each manager's notice is queued in the outbox once however often the
	// job runs (a dedup key per manager and day).
	var queued []string
	if err := srv.App.DB.Select(&queued, "SELECT dedup_key FROM outbox_messages WHERE dedup_key LIKE 'team-summary:%' ORDER BY dedup_key"); err != nil {
		t.Fatal(err)
	}
	if len(queued) != 2 {
		t.Errorf("team summaries queued: %q (want one per manager)", queued)
	}
	msgs := webhookMsgs()
	if len(msgs) != 2 || !strings.Contains(msgs[1], "团队日报") || !strings.Contains(msgs[1], "销售一部") ||
		!strings.Contains(msgs[1], "新增客户") || !strings.Contains(msgs[1], "销售数据：0 笔") ||
		strings.Contains(msgs[1], "本月（") || strings.Contains(msgs[1], "¥") {
		t.Fatalf("summaries posted: %q", msgs)
	}
	setSalesPolicy("{}")
	if st := admin.Do("POST", "/api/v1/jobs/weekly-summary/run", nil, nil); st != 202 {
		t.Fatal(st)
	}
	if run := waitRun(t, admin, "weekly-summary"); run.Outcome != "ok" || run.Counts["robots"] != 1 {
		t.Fatalf("weekly-summary: %+v", run)
	}
	if msgs = webhookMsgs(); len(msgs) != 3 || !strings.Contains(msgs[2], "销售周报") || !strings.Contains(msgs[2], "本月（") {
		t.Fatalf("weekly posted: %q", msgs)
	}

	// A wrong secret: DingTalk refuses the signature and the admin sees it.
	if st := admin.Do("PUT", path, map[string]any{"secret": "SECwrongwrongwrongwrong"}, nil); st != 200 {
		t.Fatal(st)
	}
	var failed struct {
		OK    bool `json:"ok"`
		Error struct {
			ErrCode int `json:"errcode"`
		} `json:"error"`
	}
	if st := admin.Do("POST", path+"/test", nil, &failed); st != 200 || failed.OK || failed.Error.ErrCode != 310000 {
		t.Errorf("wrong secret: %d %+v", st, failed)
	}
	if st := srv.Login(t, "sim_mgr1").Do("GET", "/api/v1/robots", nil, nil); st != 403 {
		t.Errorf("a manager lists robots: %d", st)
	}
	if st := admin.Do("DELETE", path, nil, nil); st != 204 {
		t.Errorf("delete: %d", st)
	}
}

func deptID(t *testing.T, c *apptest.Client, name string) int64 {
	t.Helper()
	var out struct {
		Items []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		} `json:"items"`
	}
	if st := c.Do("GET", "/api/v1/departments", nil, &out); st != 200 {
		t.Fatal(st)
	}
	for _, d := range out.Items {
		if d.Name == name {
			return d.ID
		}
	}
	t.Fatalf("no department %s", name)
	return 0
}
