package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dingcrm/crm/internal/apptest"
	"github.com/dingcrm/crm/internal/outbox"
)

type reminderJSON struct {
	ID         int64  `json:"id"`
	CustomerID int64  `json:"customer_id"`
	RemindAt   string `json:"remind_at"`
	Content    string `json:"content"`
	Repeat     string `json:"repeat"`
	Status     string `json:"status"`
	Source     string `json:"source"`
	Version    int    `json:"version"`
	Recipients []struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	} `json:"recipients"`
}

type reminderListJSON struct {
	Items []reminderJSON `json:"items"`
}

type inboxJSON struct {
	Items []struct {
		ID     int64  `json:"id"`
		Title  string `json:"title"`
		Body   string `json:"body"`
		URL    string `json:"url"`
		Status string `json:"status"`
	} `json:"items"`
	Unread int `json:"unread"`
}

func userID(t *testing.T, srv *apptest.Server, userid string) int64 {
	t.Helper()
	return int64(count(t, srv, "SELECT id FROM users WHERE userid = ?", userid))
}

func listIDs(t *testing.T, c *apptest.Client, when string) []int64 {
	t.Helper()
	var l reminderListJSON
	if st := c.Do("GET", "/api/v1/reminders?when="+when, nil, &l); st != 200 {
		t.Fatalf("list %s: %d", when, st)
	}
	var ids []int64
	for _, r := range l.Items {
		ids = append(ids, r.ID)
	}
	return ids
}

func hasID(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// TestReminderHTTP walks 提醒 through the API on every engine: create with
// validation, recipients within scope only with reminder.assign, my lists
// by when, scope on reads, snooze, done (with a daily repeat rolling on),
// cancel, the audit entries on the customer's timeline, the outbox rows
// kept in step, and the follow-up's next time creating and moving the
// owner's reminder.
func TestReminderHTTP(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			s1, s2, mgr := srv.Login(t, "sim_s1"), srv.Login(t, "sim_s2"), srv.Login(t, "sim_mgr1")
			s1ID, s2ID, s5ID := userID(t, srv, "sim_s1"), userID(t, srv, "sim_s2"), userID(t, srv, "sim_s5")
			cid := newCustomerAs(t, s1, "提醒接口客户")
			now := time.Now().UTC().Truncate(time.Second)
			rfc := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }

			var e errJSON
			if st := s1.Do("POST", "/api/v1/reminders", map[string]any{"repeat": "yearly", "content": strings.Repeat("长", 501)}, &e); st != 400 ||
				e.Error.Fields["customer_id"] == "" || e.Error.Fields["remind_at"] == "" || e.Error.Fields["repeat"] == "" || e.Error.Fields["content"] == "" {
				t.Fatalf("validation: %d %+v", st, e)
			}
			if st := s1.Do("POST", "/api/v1/reminders", map[string]any{"customer_id": cid, "remind_at": rfc(time.Hour), "content": "x",
				"recipient_ids": []int64{s2ID}}, &e); st != 400 || e.Error.Fields["recipient_ids"] == "" {
				t.Fatalf("a salesperson set one for someone else: %d %+v", st, e)
			}
			if st := s2.Do("POST", "/api/v1/reminders", map[string]any{"customer_id": cid, "remind_at": rfc(time.Hour), "content": "x"}, &e); st != 400 ||
				e.Error.Fields["customer_id"] == "" {
				t.Fatalf("a reminder on a customer out of scope: %d %+v", st, e)
			}
			var r reminderJSON
			if st := s1.Do("POST", "/api/v1/reminders", map[string]any{"customer_id": cid, "remind_at": rfc(30 * time.Minute),
				"content": "打电话确认报价"}, &r); st != 201 || r.Status != "pending" || len(r.Recipients) != 1 || r.Recipients[0].ID != s1ID {
				t.Fatalf("create: %d %+v", st, r)
			}
			if n := count(t, srv, "SELECT COUNT(*) FROM outbox_messages WHERE user_id = ? AND status = 'pending' AND dedup_key LIKE ?",
				s1ID, fmt.Sprintf("reminder:%d:%%", r.ID)); n != 1 {
				t.Errorf("%d pending notifications for the reminder, want 1", n)
			}
			if !hasID(listIDs(t, s1, "upcoming"), r.ID) || hasID(listIDs(t, s1, "overdue"), r.ID) {
				t.Error("the reminder is not upcoming-only")
			}
			if st := s2.Do("GET", fmt.Sprintf("/api/v1/reminders/%d", r.ID), nil, nil); st != 404 {
				t.Errorf("someone else read it: %d", st)
			}
			// A manager sets one for a member of their department, not for
			// someone of another department.
			var mr reminderJSON
			if st := mgr.Do("POST", "/api/v1/reminders", map[string]any{"customer_id": cid, "remind_at": rfc(-time.Hour), "content": "经理提醒",
				"recipient_ids": []int64{s1ID, s2ID}}, &mr); st != 201 || len(mr.Recipients) != 2 {
				t.Fatalf("manager create: %d %+v", st, mr)
			}
			if st := mgr.Do("POST", "/api/v1/reminders", map[string]any{"customer_id": cid, "remind_at": rfc(time.Hour), "content": "x",
				"recipient_ids": []int64{s5ID}}, &e); st != 400 || e.Error.Fields["recipient_ids"] == "" {
				t.Fatalf("manager set one outside their scope: %d %+v", st, e)
			}
			var choices struct {
				Items []struct{ ID int64 } `json:"items"`
			}
			mgr.Do("GET", "/api/v1/reminders/recipients", nil, &choices)
			offered := map[int64]bool{}
			for _, p := range choices.Items {
				offered[p.ID] = true
			}
			if !offered[s1ID] || !offered[s2ID] || offered[s5ID] {
				t.Errorf("the manager is offered %v: want sim_s1 and sim_s2, not sim_s5", choices.Items)
			}
			s1.Do("GET", "/api/v1/reminders/recipients", nil, &choices)
			if len(choices.Items) != 1 || choices.Items[0].ID != s1ID {
				t.Errorf("a salesperson is offered %v, want only themself", choices.Items)
			}
			if !hasID(listIDs(t, s2, "overdue"), mr.ID) {
				t.Error("the manager's reminder is not in the recipient's overdue list")
			}
			// Snooze, done, cancel.
			var sn reminderJSON
			path := fmt.Sprintf("/api/v1/reminders/%d", r.ID)
			if st := s1.Do("POST", path+"/snooze", map[string]any{"minutes": 60}, &sn); st != 200 || sn.Version != 2 {
				t.Fatalf("snooze: %d %+v", st, sn)
			}
			if n := count(t, srv, "SELECT COUNT(*) FROM outbox_messages WHERE status = 'pending' AND dedup_key LIKE ?", fmt.Sprintf("reminder:%d:%%", r.ID)); n != 1 {
				t.Errorf("after the snooze %d pending notifications, want 1 (the old one withdrawn)", n)
			}
			if st := s1.Do("POST", path+"/snooze", map[string]any{"minutes": 60, "until": rfc(time.Hour)}, &e); st != 400 {
				t.Errorf("snooze with both: %d", st)
			}
			if st := s1.Do("PATCH", path, map[string]any{"version": 1, "content": "旧"}, &e); st != 409 {
				t.Errorf("stale edit: %d", st)
			}
			var done reminderJSON
			if st := s1.Do("POST", path+"/done", nil, &done); st != 200 || done.Status != "done" {
				t.Fatalf("done: %d %+v", st, done)
			}
			if st := s1.Do("POST", path+"/cancel", nil, &e); st != 409 {
				t.Errorf("cancel of a done reminder: %d", st)
			}
			if n := count(t, srv, "SELECT COUNT(*) FROM outbox_messages WHERE status = 'pending' AND dedup_key LIKE ?", fmt.Sprintf("reminder:%d:%%", r.ID)); n != 0 {
				t.Errorf("a done reminder still has %d notifications waiting", n)
			}
			var daily reminderJSON
			s1.Do("POST", "/api/v1/reminders", map[string]any{"customer_id": cid, "remind_at": rfc(-2 * time.Hour), "content": "每日回访", "repeat": "daily"}, &daily)
			if st := s1.Do("POST", fmt.Sprintf("/api/v1/reminders/%d/done", daily.ID), nil, nil); st != 200 {
				t.Fatalf("done daily: %d", st)
			}
			if n := count(t, srv, "SELECT COUNT(*) FROM reminders WHERE previous_id = ? AND status = 'pending' AND repeat_rule = 'daily'", daily.ID); n != 1 {
				t.Errorf("a done daily reminder rolled on %d times, want 1", n)
			}
			var cancelled reminderJSON
			if st := mgr.Do("POST", fmt.Sprintf("/api/v1/reminders/%d/cancel", mr.ID), nil, &cancelled); st != 200 || cancelled.Status != "cancelled" {
				t.Errorf("cancel: %d %+v", st, cancelled)
			}
			// Audit entries on the customer's timeline.
			for _, action := range []string{"create", "snooze", "done", "cancel"} {
				if n := count(t, srv, "SELECT COUNT(*) FROM audit_log WHERE entity = 'reminder' AND action = ? AND customer_id = ?", action, cid); n == 0 {
					t.Errorf("no %s entry on the customer's timeline", action)
				}
			}
			// A follow-up's next follow-up time makes (then moves) the owner's reminder.
			for i, d := range []time.Duration{48 * time.Hour, 72 * time.Hour} {
				if st := s1.Do("POST", "/api/v1/followups", map[string]any{"customer_id": cid, "followed_at": rfc(-time.Duration(2-i) * time.Hour),
					"method": "phone", "content": "电话", "next_follow_at": rfc(d)}, nil); st != 201 {
					t.Fatalf("follow-up: %d", st)
				}
			}
			var l reminderListJSON
			s1.Do("GET", fmt.Sprintf("/api/v1/reminders?customer_id=%d", cid), nil, &l)
			var fromFollowup []reminderJSON
			for _, x := range l.Items {
				if x.Source == "followup" {
					fromFollowup = append(fromFollowup, x)
				}
			}
			if len(fromFollowup) != 1 || fromFollowup[0].RemindAt != rfc(72*time.Hour) {
				t.Errorf("follow-up reminders %+v, want one at %s", fromFollowup, rfc(72*time.Hour))
			}
		})
	}
}

// TestInboxHTTP: a due reminder goes out through the dispatcher as a DingTalk
// work notification (to the fake) and the inbox shows the same words; marking
// read clears the badge; nobody sees another's inbox.
func TestInboxHTTP(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			s1, s2 := srv.Login(t, "sim_s1"), srv.Login(t, "sim_s2")
			cid := newCustomerAs(t, s1, "消息客户")
			at := time.Now().UTC().Add(time.Minute).Truncate(time.Second)
			var r reminderJSON
			if st := s1.Do("POST", "/api/v1/reminders", map[string]any{"customer_id": cid, "remind_at": at.Format(time.RFC3339),
				"content": "带上合同"}, &r); st != 201 {
				t.Fatalf("create: %d", st)
			}
			a := srv.App
			d := outbox.NewDispatcher(outbox.Options{DB: a.DB, DingTalk: a.DingTalk, Quiet: outbox.Never, Location: time.UTC,
				Now: func() time.Time { return at.Add(2 * time.Minute) }, BaseURL: "http://crm.example"})
			if sum, err := d.Dispatch(context.Background()); err != nil || !strings.Contains(sum, "sent 1") {
				t.Fatalf("dispatch: %q %v", sum, err)
			}
			got := a.FakeDingTalk.DeliveriesTo("sim_s1")
			if len(got) != 1 || !strings.Contains(got[0].Text, "带上合同") || !strings.Contains(string(got[0].Msg), "pc_slide=true") ||
				!strings.Contains(string(got[0].Msg), fmt.Sprintf("customers%%2F%d", cid)) {
				t.Fatalf("DingTalk deliveries %+v", got)
			}
			var in inboxJSON
			if st := s1.Do("GET", "/api/v1/inbox", nil, &in); st != 200 || len(in.Items) != 1 || in.Unread != 1 {
				t.Fatalf("inbox: %d %+v", st, in)
			}
			if in.Items[0].Body != got[0].Text[strings.Index(got[0].Text, "带上合同"):] || in.Items[0].URL != fmt.Sprintf("#/customers/%d", cid) {
				t.Errorf("inbox body %q, DingTalk got %q", in.Items[0].Body, got[0].Text)
			}
			if st := s2.Do("POST", fmt.Sprintf("/api/v1/inbox/%d/read", in.Items[0].ID), nil, nil); st != 404 {
				t.Errorf("someone else marked it read: %d", st)
			}
			if st := s1.Do("POST", fmt.Sprintf("/api/v1/inbox/%d/read", in.Items[0].ID), nil, nil); st != 204 {
				t.Errorf("read: %d", st)
			}
			var unread struct{ Unread int }
			if s1.Do("GET", "/api/v1/inbox/unread", nil, &unread); unread.Unread != 0 {
				t.Errorf("unread %d after reading", unread.Unread)
			}
			// getsendresult: the fake reports it unread, then read.
			later := outbox.NewDispatcher(outbox.Options{DB: a.DB, DingTalk: a.DingTalk, Quiet: outbox.Never,
				Now: func() time.Time { return at.Add(5 * time.Minute) }})
			a.FakeDingTalk.MarkRead(got[0].TaskID, "sim_s1")
			if sum, err := later.CheckSendResults(context.Background()); err != nil || !strings.Contains(sum, "read 1") {
				t.Errorf("check: %q %v", sum, err)
			}
			if n := count(t, srv, "SELECT COUNT(*) FROM outbox_batches WHERE status = 'read'"); n != 1 {
				t.Errorf("%d batches marked read", n)
			}
		})
	}
}

// TestMorningDigestAndRepeatsHTTP: the morning digest is one message per
// person with something to do (today's and overdue reminders, today's
// follow-ups), once a day however often the job runs; a repeating reminder
// that fell due rolls on once, however many dispatchers run.
func TestMorningDigestAndRepeatsHTTP(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			s1 := srv.Login(t, "sim_s1")
			s1ID := userID(t, srv, "sim_s1")
			cid := newCustomerAs(t, s1, "晨报客户")
			now := time.Now().UTC().Truncate(time.Second)
			var overdue, daily reminderJSON
			s1.Do("POST", "/api/v1/reminders", map[string]any{"customer_id": cid, "remind_at": now.Add(-50 * time.Hour).Format(time.RFC3339),
				"content": "逾期的回访"}, &overdue)
			s1.Do("POST", "/api/v1/reminders", map[string]any{"customer_id": cid, "remind_at": now.Add(-time.Minute).Format(time.RFC3339),
				"content": "每日打卡", "repeat": "daily"}, &daily)
			if overdue.ID == 0 || daily.ID == 0 {
				t.Fatal("reminders not created")
			}
			ctx := context.Background()
			for range 2 {
				if _, err := srv.App.Reminders.MorningDigest(ctx, now); err != nil {
					t.Fatal(err)
				}
			}
			var bodies []string
			if err := srv.App.DB.Select(&bodies, "SELECT body FROM outbox_messages WHERE kind = 'digest' AND user_id = ?", s1ID); err != nil {
				t.Fatal(err)
			}
			if len(bodies) != 1 || !strings.Contains(bodies[0], "逾期的回访") || !strings.Contains(bodies[0], "逾期未处理的提醒") {
				t.Errorf("digests %q, want one naming the overdue reminder", bodies)
			}
			for range 3 {
				if err := srv.App.Reminders.RollDue(ctx, now); err != nil {
					t.Fatal(err)
				}
			}
			if n := count(t, srv, "SELECT COUNT(*) FROM reminders WHERE previous_id = ? AND status = 'pending'", daily.ID); n != 1 {
				t.Errorf("the daily reminder rolled on %d times, want 1", n)
			}
			next := count(t, srv, "SELECT id FROM reminders WHERE previous_id = ?", daily.ID)
			if n := count(t, srv, "SELECT COUNT(*) FROM outbox_messages WHERE status = 'pending' AND dedup_key LIKE ?", fmt.Sprintf("reminder:%d:%%", next)); n != 1 {
				t.Errorf("the next occurrence has %d notifications waiting, want 1", n)
			}
		})
	}
}
