package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dingcrm/crm/dingtalk"
	"github.com/dingcrm/crm/internal/apptest"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/chatbot"
)

// botEnv talks to the chat bot as DingTalk would: signed callbacks whose
// answers land at the fake platform's sessionWebhook.
type botEnv struct {
	t      *testing.T
	srv    *apptest.Server
	secret string
	seq    int
}

func newBotEnv(t *testing.T, srv *apptest.Server) *botEnv {
	return &botEnv{t: t, srv: srv, secret: srv.App.FakeDingTalk.ClientOptions().AppSecret}
}

type botMsg struct {
	from, text string
	group, at  bool
	webhook    string // default: a sessionWebhook issued by the fake
}

// send posts m signed at ts with key and returns the status and the
// replies that reached the conversation's sessionWebhook.
func (e *botEnv) post(m botMsg, ts time.Time, key string) (int, []string) {
	e.t.Helper()
	e.seq++
	conv := fmt.Sprintf("conv-%d", e.seq)
	fake := e.srv.App.FakeDingTalk
	ctype := "1"
	if m.group {
		ctype = "2"
	}
	hook := m.webhook
	if hook == "" {
		hook = fake.IssueSessionWebhook(conv)
	}
	body, _ := json.Marshal(map[string]any{
		"msgId": fmt.Sprintf("msg-%d-%d", e.seq, time.Now().UnixNano()), "msgtype": "text",
		"text": map[string]string{"content": m.text}, "conversationType": ctype, "conversationId": conv,
		"senderStaffId": m.from, "senderNick": m.from, "isInAtList": m.at,
		"sessionWebhook": hook, "sessionWebhookExpiredTime": time.Now().Add(time.Hour).UnixMilli(),
		"createAt": time.Now().UnixMilli(),
	})
	ms := ts.UnixMilli()
	req, _ := http.NewRequest("POST", e.srv.URL+"/dingtalk/robot", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("timestamp", strconv.FormatInt(ms, 10))
	req.Header.Set("sign", dingtalk.RobotSign(key, ms))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, e.replies(conv)
}

func (e *botEnv) replies(conv string) []string {
	var out []string
	for _, r := range e.srv.App.FakeDingTalk.RobotMessages() {
		if r.Kind != "session" || r.ConversationID != conv {
			continue
		}
		var b struct {
			Markdown struct {
				Text string `json:"text"`
			} `json:"markdown"`
			At struct {
				AtUserIDs []string `json:"atUserIds"`
			} `json:"at"`
		}
		json.Unmarshal(r.Body, &b)
		out = append(out, b.Markdown.Text+"|at:"+strings.Join(b.At.AtUserIDs, ","))
	}
	return out
}

// say sends a correctly signed message and returns its one reply.
func (e *botEnv) say(from, text string) string {
	e.t.Helper()
	st, replies := e.post(botMsg{from: from, text: text}, time.Now(), e.secret)
	if st != 200 || len(replies) != 1 {
		e.t.Fatalf("%s says %q: status %d, replies %q", from, text, st, replies)
	}
	return replies[0]
}

func mustContain(t *testing.T, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s: %q lacks %q", what, got, w)
		}
	}
}

// TestRobotCallback drives the chat bot through POST /dingtalk/robot:
// signatures and timestamps are checked, each command answers the sender
// with their own permissions and scope, an ambiguous customer becomes a
// numbered choice completed by the reply, an unknown sender is refused
// politely, a group message is answered only when it @-mentions the
// robot, and replies follow the sender's language.
func TestRobotCallback(t *testing.T) {
	srv := apptest.Start(t)
	bot := newBotEnv(t, srv)
	s1 := srv.Login(t, "sim_s1")
	ids := map[string]int64{}
	for _, name := range []string{"杭州星河科技", "杭州星河贸易", "上海云帆物流"} {
		var c struct {
			ID int64 `json:"id"`
		}
		if st := s1.Do("POST", "/api/v1/customers", map[string]any{"name": name}, &c); st != 201 {
			t.Fatalf("create %s: %d", name, st)
		}
		ids[name] = c.ID
	}

	t.Run("signature", func(t *testing.T) {
		for name, tc := range map[string]struct {
			ts  time.Time
			key string
		}{
			"wrong secret":    {time.Now(), "not-the-app-secret"},
			"stale":           {time.Now().Add(-2 * time.Hour), bot.secret},
			"from the future": {time.Now().Add(2 * time.Hour), bot.secret},
		} {
			if st, replies := bot.post(botMsg{from: "sim_s1", text: "帮助"}, tc.ts, tc.key); st != 401 || len(replies) != 0 {
				t.Errorf("%s: %d %q", name, st, replies)
			}
		}
		// A sessionWebhook off DingTalk's host is never posted to.
		var hits atomic.Int32
		evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
		defer evil.Close()
		if st, _ := bot.post(botMsg{from: "sim_s1", text: "客户 星河", webhook: evil.URL + "/robot/sendBySession"}, time.Now(), bot.secret); st != 200 || hits.Load() != 0 {
			t.Errorf("foreign webhook: status %d, %d posts to it", st, hits.Load())
		}
		req, _ := http.NewRequest("POST", srv.URL+"/dingtalk/robot", strings.NewReader(`{}`))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Errorf("no headers: %d", resp.StatusCode)
		}
	})

	t.Run("help", func(t *testing.T) {
		mustContain(t, "帮助", bot.say("sim_s1", "帮助"), "客户 关键词", "跟进 客户 内容", "提醒 客户 时间 内容")
		mustContain(t, "empty", bot.say("sim_s1", " "), "客户 关键词")
		mustContain(t, "unknown", bot.say("sim_s1", "天气怎么样"), "帮助")
	})

	t.Run("customer search in scope", func(t *testing.T) {
		got := bot.say("sim_s1", "客户 星河")
		mustContain(t, "search", got, "杭州星河科技", "杭州星河贸易", fmt.Sprintf("#/customers/%d", ids["杭州星河科技"]))
		mustContain(t, "none", bot.say("sim_s1", "客户 不存在的公司"), "没有找到")
		// Another salesperson (scope: own customers) does not see them.
		mustContain(t, "other scope", bot.say("sim_s2", "客户 星河"), "没有找到")
		mustContain(t, "short", bot.say("sim_s1", "客户 星"), "两个字")
	})

	followupsOf := func(id int64) []string {
		var out struct {
			Items []struct {
				Content string `json:"content"`
				Method  string `json:"method"`
			} `json:"items"`
		}
		if st := s1.Do("GET", fmt.Sprintf("/api/v1/followups?customer_id=%d", id), nil, &out); st != 200 {
			t.Fatal(st)
		}
		var cs []string
		for _, f := range out.Items {
			cs = append(cs, f.Method+":"+f.Content)
		}
		return cs
	}

	t.Run("follow-up", func(t *testing.T) {
		mustContain(t, "unique", bot.say("sim_s1", "跟进 云帆 电话沟通了报价"), "已为「上海云帆物流」添加跟进记录")
		if got := followupsOf(ids["上海云帆物流"]); len(got) != 1 || got[0] != "other:电话沟通了报价" {
			t.Errorf("follow-ups: %q", got)
		}
		mustContain(t, "usage", bot.say("sim_s1", "跟进 云帆"), "用法")
		// sim_s2 cannot follow up sim_s1's customer: it is not found for them.
		mustContain(t, "scope", bot.say("sim_s2", "跟进 云帆 越权"), "没有找到")
	})

	t.Run("ambiguous customer", func(t *testing.T) {
		q := bot.say("sim_s1", "跟进 星河 上门拜访")
		mustContain(t, "choice", q, "匹配到 2 个客户", "1. ", "2. ")
		// The second line of the choice is the customer numbered 2.
		second := "杭州星河科技"
		if strings.Index(q, "杭州星河贸易") > strings.Index(q, "杭州星河科技") {
			second = "杭州星河贸易"
		}
		mustContain(t, "range", bot.say("sim_s1", "3"), "1 到 2")
		mustContain(t, "chosen", bot.say("sim_s1", "2"), "已为「"+second+"」添加跟进记录")
		if got := followupsOf(ids[second]); len(got) != 1 || got[0] != "other:上门拜访" {
			t.Errorf("follow-ups of %s: %q", second, got)
		}
		// The choice is used up: "2" again is no longer a choice.
		mustContain(t, "used", bot.say("sim_s1", "2"), "没看懂")
	})

	t.Run("reminders and today", func(t *testing.T) {
		// 提醒 goes to the reminders module as the writer; a time tomorrow.
		mustContain(t, "remind", bot.say("sim_s1", "提醒 云帆 明天 10:00 回访"), "已设置提醒", "上海云帆物流", "10:00", "回访")
		var mine struct {
			Items []struct {
				CustomerID int64     `json:"customer_id"`
				Content    string    `json:"content"`
				RemindAt   time.Time `json:"remind_at"`
			} `json:"items"`
		}
		if st := s1.Do("GET", "/api/v1/reminders?when=upcoming", nil, &mine); st != 200 {
			t.Fatalf("reminders: %d", st)
		}
		shanghai, _ := time.LoadLocation("Asia/Shanghai")
		at := mine.Items[len(mine.Items)-1].RemindAt.In(shanghai)
		if len(mine.Items) != 1 || mine.Items[0].CustomerID != ids["上海云帆物流"] || mine.Items[0].Content != "回访" ||
			at.Hour() != 10 || at.Minute() != 0 || at.YearDay() != time.Now().In(shanghai).AddDate(0, 0, 1).YearDay() {
			t.Errorf("reminders of sim_s1: %+v", mine.Items)
		}
		mustContain(t, "bad time", bot.say("sim_s1", "提醒 云帆 某天 回访"), "用法")
		mustContain(t, "today, none due today", bot.say("sim_s1", "今日"), "今天没有提醒")
	})

	t.Run("sales", func(t *testing.T) {
		var sale struct {
			ID int64 `json:"id"`
		}
		if st := s1.Do("POST", "/api/v1/sales", map[string]any{"customer_id": ids["上海云帆物流"], "amount_fen": 1234500}, &sale); st != 201 {
			t.Fatalf("sale: %d", st)
		}
		mustContain(t, "s1", bot.say("sim_s1", "业绩"), "本月业绩", "销售数据：1 笔，¥12345.00", "赢单：0 个")
		mustContain(t, "s2 sees only their own", bot.say("sim_s2", "业绩"), "销售数据：0 笔")
		mustContain(t, "admin sees all", bot.say("sim_admin", "业绩"), "销售数据：1 笔")
	})

	t.Run("unknown sender", func(t *testing.T) {
		got := bot.say("stranger_42", "客户 星河")
		mustContain(t, "refusal", got, "你还不是 CRM 的用户", "not a CRM user")
		if strings.Contains(got, "星河科技") {
			t.Errorf("a stranger saw customers: %q", got)
		}
	})

	t.Run("group needs @", func(t *testing.T) {
		if st, replies := bot.post(botMsg{from: "sim_s1", text: "客户 星河", group: true}, time.Now(), bot.secret); st != 200 || len(replies) != 0 {
			t.Errorf("group without @: %d %q", st, replies)
		}
		st, replies := bot.post(botMsg{from: "sim_s1", text: "客户 星河", group: true, at: true}, time.Now(), bot.secret)
		if st != 200 || len(replies) != 1 || !strings.Contains(replies[0], "杭州星河科技") || !strings.HasSuffix(replies[0], "|at:sim_s1") {
			t.Errorf("group with @: %d %q", st, replies)
		}
	})

	t.Run("english", func(t *testing.T) {
		s3 := srv.Login(t, "sim_s3")
		if st := s3.Do("PATCH", "/api/v1/me", map[string]any{"lang": "en"}, nil); st != 200 {
			t.Fatal(st)
		}
		mustContain(t, "help", bot.say("sim_s3", "help"), "customer keyword", "remind customer time text")
		mustContain(t, "chinese command, english answer", bot.say("sim_s3", "客户 不存在的公司"), "No customer matches")
		mustContain(t, "sales", bot.say("sim_s3", "sales"), "This month so far", "Sales: 0")
	})
}

// memReminders stands in for the reminders module, which is not in this
// tree yet: it keeps what the bot asked for.
type memReminders struct {
	mu    sync.Mutex
	added []addedReminder
}

type addedReminder struct {
	user, customer int64
	at             time.Time
	text           string
}

func (m *memReminders) Add(_ context.Context, a *auth.Actor, customerID int64, at time.Time, text string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.added = append(m.added, addedReminder{a.UserID, customerID, at, text})
	return nil
}

func (m *memReminders) Today(_ context.Context, a *auth.Actor, _ time.Time) ([]chatbot.Reminder, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []chatbot.Reminder
	for _, r := range m.added {
		if r.user == a.UserID {
			out = append(out, chatbot.Reminder{At: r.at, Customer: fmt.Sprint(r.customer), Text: r.text})
		}
	}
	return out, nil
}

// TestRobotReminders: 提醒 reads the time grammar in the company's zone,
// resolves the customer in the sender's scope (a numbered choice when
// ambiguous) and hands the reminder to the reminders module as the sender;
// 今日 lists the sender's reminders.
func TestRobotReminders(t *testing.T) {
	srv := apptest.Start(t)
	rem := &memReminders{}
	srv.App.Bot.UseReminders(rem)
	bot := newBotEnv(t, srv)
	s1 := srv.Login(t, "sim_s1")
	ids := map[string]int64{}
	for _, name := range []string{"宁波海港一号", "宁波海港二号", "苏州园林设计"} {
		var c struct {
			ID int64 `json:"id"`
		}
		if st := s1.Do("POST", "/api/v1/customers", map[string]any{"name": name}, &c); st != 201 {
			t.Fatalf("create %s: %d", name, st)
		}
		ids[name] = c.ID
	}
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Now().In(shanghai)
	tomorrow10 := time.Date(now.Year(), now.Month(), now.Day()+1, 10, 0, 0, 0, shanghai)

	mustContain(t, "direct", bot.say("sim_s1", "提醒 园林 明天 10:00 送样品"), "已设置提醒", "苏州园林设计", "送样品")
	q := bot.say("sim_s1", "提醒 海港 3天后 14:30 续约")
	mustContain(t, "ambiguous", q, "匹配到 2 个客户")
	first := "宁波海港一号"
	if strings.Index(q, "宁波海港二号") < strings.Index(q, "宁波海港一号") {
		first = "宁波海港二号"
	}
	mustContain(t, "chosen", bot.say("sim_s1", "1"), "已设置提醒", first, "续约")
	mustContain(t, "past", bot.say("sim_s1", "提醒 园林 今天 00:00 太晚"), "已经过去")
	mustContain(t, "other scope", bot.say("sim_s2", "提醒 园林 明天 10:00 越权"), "没有找到")

	rem.mu.Lock()
	added := append([]addedReminder(nil), rem.added...)
	rem.mu.Unlock()
	s1ID := int64(s1.Me["id"].(float64))
	in3 := time.Date(now.Year(), now.Month(), now.Day()+3, 14, 30, 0, 0, shanghai)
	if len(added) != 2 ||
		added[0].user != s1ID || added[0].customer != ids["苏州园林设计"] || !added[0].at.Equal(tomorrow10) || added[0].text != "送样品" ||
		added[1].customer != ids[first] || !added[1].at.Equal(in3) || added[1].text != "续约" {
		t.Fatalf("reminders handed over: %+v", added)
	}
	mustContain(t, "today", bot.say("sim_s1", "今日"), "今天的提醒（2）", "送样品", "续约")
	mustContain(t, "today of another", bot.say("sim_s2", "今日"), "今天没有提醒")
}

// TestRobotWithoutRedis: with Redis gone the bot cannot tell a redelivered
// message from a new one, so it handles none (a command like adding a
// follow-up must never run twice); the callback still answers 200.
func TestRobotWithoutRedis(t *testing.T) {
	if os.Getenv("CRM_TEST_MYSQL_DSN") == "" || os.Getenv("CRM_TEST_REDIS_ADDR") == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but CRM_TEST_MYSQL_DSN or CRM_TEST_REDIS_ADDR is not set")
		}
		t.Skip("needs CRM_TEST_MYSQL_DSN and CRM_TEST_REDIS_ADDR (the MySQL engine runs with Redis)")
	}
	srv := apptest.StartOn(t, "mysql")
	bot := newBotEnv(t, srv)
	bot.say("sim_s1", "帮助") // answered while Redis is up
	srv.App.KV.Close()
	st, replies := bot.post(botMsg{from: "sim_s1", text: "帮助"}, time.Now(), bot.secret)
	if st != 200 || len(replies) != 0 {
		t.Fatalf("with Redis down: status %d, replies %q; want 200 and no reply", st, replies)
	}
}
