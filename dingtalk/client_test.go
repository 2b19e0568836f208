package dingtalk_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dingcrm/crm/dingtalk"
	"github.com/dingcrm/crm/dingtalk/dingtalktest"
)

func TestGetUserInfoByCode(t *testing.T) {
	srv, c := env(t, dingtalktest.Options{}, nil)
	ctx := ctx(t)
	tests := []struct {
		name     string
		userID   string
		sys      bool
		sysLevel int
	}{
		{"main admin", "sim_admin", true, 1},
		{"manager", "sim_mgr1", false, 0},
		{"salesperson", "sim_s8", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code := srv.IssueLoginCode(tt.userID)
			u, err := c.GetUserInfoByCode(ctx, code)
			if err != nil {
				t.Fatal(err)
			}
			if u.UserID != tt.userID || u.UnionID != "union_"+tt.userID || u.Sys != tt.sys || u.SysLevel != tt.sysLevel || u.Name == "" {
				t.Errorf("got %+v", u)
			}
			if _, err := c.GetUserInfoByCode(ctx, code); !errors.Is(err, dingtalk.ErrInvalidCode) {
				t.Errorf("second use: err = %v, want ErrInvalidCode", err)
			}
		})
	}
	t.Run("expired after 5 minutes", func(t *testing.T) {
		code := srv.IssueLoginCode("sim_s1")
		srv.Advance(5*time.Minute + time.Second)
		_, err := c.GetUserInfoByCode(ctx, code)
		var de *dingtalk.Error
		if !errors.As(err, &de) || de.ErrCode != 40078 || !errors.Is(err, dingtalk.ErrInvalidCode) {
			t.Errorf("err = %v, want errcode 40078", err)
		}
	})
}

func TestOAuthLogin(t *testing.T) {
	srv, c := env(t, dingtalktest.Options{}, nil)
	ctx := ctx(t)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	authURL := c.AuthorizeURL("csrf123", "https://crm.example.com/auth/callback")
	for _, want := range []string{"/oauth2/auth?", "prompt=consent", "response_type=code", "scope=openid", "client_id=" + srv.AppKey()} {
		if !strings.Contains(authURL, want) {
			t.Errorf("AuthorizeURL %q lacks %q", authURL, want)
		}
	}
	// Nobody chosen: the page lists the people to pick from.
	resp, err := noRedirect.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("picker page: status %d", resp.StatusCode)
	}
	srv.SetOAuthUser("sim_s8")
	resp, err = noRedirect.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("redirect: status %d, location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	q := loc.Query()
	if loc.Host != "crm.example.com" || q.Get("state") != "csrf123" || q.Get("code") == "" || q.Get("code") != q.Get("authCode") {
		t.Fatalf("redirect to %s", loc)
	}

	tok, err := c.GetUserToken(ctx, q.Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" || tok.CorpID != srv.CorpID() || time.Until(tok.ExpiresAt) < time.Hour {
		t.Errorf("token %+v", tok)
	}
	if _, err := c.GetUserToken(ctx, q.Get("code")); !errors.Is(err, dingtalk.ErrInvalidCode) {
		t.Errorf("code reuse: err = %v, want ErrInvalidCode", err)
	}
	me, err := c.GetMe(ctx, tok.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if me.UnionID != "union_sim_s8" || me.Nick != "郑凯" || me.Mobile != "13800000011" {
		t.Errorf("me = %+v", me)
	}
	userID, contactType, err := c.GetUserIDByUnionID(ctx, me.UnionID)
	if err != nil || userID != "sim_s8" || contactType != 0 {
		t.Errorf("GetUserIDByUnionID = %q, %d, %v", userID, contactType, err)
	}
	if _, _, err := c.GetUserIDByUnionID(ctx, "union_nobody"); !errors.Is(err, dingtalk.ErrNotFound) {
		t.Errorf("unknown unionid: err = %v, want ErrNotFound", err)
	}
	again, err := c.RefreshUserToken(ctx, tok.RefreshToken)
	if err != nil || again.AccessToken == "" {
		t.Fatalf("refresh: %+v %v", again, err)
	}
	if _, err := c.GetMe(ctx, "not-a-token"); !errors.Is(err, dingtalk.ErrInvalidToken) {
		t.Errorf("GetMe with a bad token: err = %v, want ErrInvalidToken", err)
	}
}

func TestOrgLists(t *testing.T) {
	_, c := env(t, dingtalktest.Options{}, nil)
	ctx := ctx(t)

	top, err := c.ListDepartments(ctx, dingtalk.RootDeptID)
	if err != nil {
		t.Fatal(err)
	}
	if names := deptNames(top); !slices.Equal(names, []string{"销售一部", "销售二部", "市场部"}) {
		t.Errorf("top level = %v", names)
	}
	ids, err := c.ListSubDepartmentIDs(ctx, 2)
	if err != nil || !slices.Equal(ids, []int64{4}) {
		t.Errorf("sub ids of 2 = %v, %v", ids, err)
	}
	all, err := c.ListAllDepartments(ctx)
	if err != nil || len(all) != 4 {
		t.Errorf("all departments = %v, %v", deptNames(all), err)
	}
	d, err := c.GetDepartment(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "销售一部" || d.ParentID != 1 || !slices.Equal(d.ManagerUserIDs, []string{"sim_mgr1"}) || d.MemberCount != 6 {
		t.Errorf("department 2 = %+v", d)
	}
	if _, err := c.GetDepartment(ctx, 99); !errors.Is(err, dingtalk.ErrNotFound) {
		t.Errorf("department 99: err = %v, want ErrNotFound", err)
	}

	// Department 2 has sim_mgr1, sim_s1, sim_s2, sim_s8: pages of 3.
	p1, err := c.ListUsers(ctx, 2, 0, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(p1.Users) != 3 || !p1.HasMore || p1.NextCursor != 3 {
		t.Fatalf("page 1 = %d users, more %v, next %d", len(p1.Users), p1.HasMore, p1.NextCursor)
	}
	p2, err := c.ListUsers(ctx, 2, p1.NextCursor, 3)
	if err != nil || len(p2.Users) != 1 || p2.HasMore {
		t.Fatalf("page 2 = %+v, %v", p2, err)
	}
	members, err := c.ListDepartmentUsers(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]dingtalk.User{}
	for _, u := range members {
		byID[u.UserID] = u
	}
	if len(byID) != 4 || !byID["sim_mgr1"].Leader || byID["sim_s1"].Leader {
		t.Errorf("members of 2 = %v", byID)
	}
	s8 := byID["sim_s8"]
	if s8.Name != "郑凯" || s8.UnionID != "union_sim_s8" || s8.Mobile != "13800000011" || s8.Title != "大客户销售" ||
		!slices.Equal(s8.DeptIDs, []int64{2, 3}) || !s8.Active || s8.Email != "sim_s8@example.com" || s8.HiredDate == 0 {
		t.Errorf("list item sim_s8 = %+v", s8)
	}

	u, err := c.GetUser(ctx, "sim_mgr2")
	if err != nil {
		t.Fatal(err)
	}
	if len(u.LeaderInDept) != 1 || u.LeaderInDept[0] != (dingtalk.LeaderInDept{DeptID: 3, Leader: true}) || u.Admin {
		t.Errorf("sim_mgr2 = %+v", u)
	}
	if _, err := c.GetUser(ctx, "nobody"); !errors.Is(err, dingtalk.ErrNotFound) {
		t.Errorf("unknown user: err = %v", err)
	}
	admins, err := c.ListAdmins(ctx)
	if err != nil || !slices.Equal(admins, []dingtalk.Admin{{UserID: "sim_admin", SysLevel: 1}}) {
		t.Errorf("admins = %v, %v", admins, err)
	}
}

func deptNames(ds []dingtalk.Department) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Name)
	}
	return out
}

func TestWorkNotice(t *testing.T) {
	srv, c := env(t, dingtalktest.Options{}, nil)
	ctx := ctx(t)
	card := dingtalk.ActionCardMessage("跟进提醒", "**张三** 今天 15:00 需要跟进 #r42", "查看", "https://crm.example.com/c/1")

	task, err := c.SendWorkNotice(ctx, dingtalk.WorkNotice{UserIDs: []string{"sim_s1", "sim_s2", "ghost"}, Msg: card})
	if err != nil {
		t.Fatal(err)
	}
	got := srv.Deliveries()
	if len(got) != 2 || got[0].UserID != "sim_s1" || got[0].MsgType != "action_card" || got[0].Title != "跟进提醒" || got[0].AgentID != srv.AgentID() {
		t.Fatalf("deliveries = %+v", got)
	}
	res, err := c.GetSendResult(ctx, task)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.InvalidUserIDs, []string{"ghost"}) || len(res.UnreadUserIDs) != 2 || len(res.Forbidden) != 0 {
		t.Errorf("result = %+v", res)
	}
	srv.MarkRead(task, "sim_s1")
	if res, _ = c.GetSendResult(ctx, task); !slices.Equal(res.ReadUserIDs, []string{"sim_s1"}) {
		t.Errorf("read = %v", res.ReadUserIDs)
	}
	prog, err := c.GetSendProgress(ctx, task)
	if err != nil || prog.Status != 2 || prog.Percent != 100 {
		t.Errorf("progress = %+v, %v", prog, err)
	}

	// The same content to sim_s1 again today is dropped silently; sim_mgr1
	// has not seen it and gets it.
	task2, err := c.SendWorkNotice(ctx, dingtalk.WorkNotice{UserIDs: []string{"sim_s1", "sim_mgr1"}, Msg: card})
	if err != nil {
		t.Fatalf("duplicate send must still succeed: %v", err)
	}
	if n := len(srv.DeliveriesTo("sim_s1")); n != 1 {
		t.Errorf("sim_s1 got %d copies, want 1", n)
	}
	res, _ = c.GetSendResult(ctx, task2)
	wantDrop := []dingtalk.Forbidden{{Code: dingtalk.DropDuplicateContent, Count: 1, UserID: "sim_s1"}}
	if !slices.Equal(res.Forbidden, wantDrop) || !slices.Equal(res.ForbiddenUserIDs, []string{"sim_s1"}) || !slices.Equal(res.UnreadUserIDs, []string{"sim_mgr1"}) {
		t.Errorf("second result = %+v", res)
	}
	// Next day (Asia/Shanghai) it goes through again.
	srv.Advance(24 * time.Hour)
	if _, err := c.SendWorkNotice(ctx, dingtalk.WorkNotice{UserIDs: []string{"sim_s1"}, Msg: card}); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.DeliveriesTo("sim_s1")); n != 2 {
		t.Errorf("next day: sim_s1 has %d deliveries, want 2", n)
	}

	// A department includes its sub-departments, each person once.
	md := dingtalk.MarkdownMessage("周报", "本周新增客户 3 个")
	if _, err := c.SendWorkNotice(ctx, dingtalk.WorkNotice{DeptIDs: []int64{2, 3}, Msg: md}); err != nil {
		t.Fatal(err)
	}
	var to []string
	for _, d := range srv.Deliveries() {
		if d.Title == "周报" {
			to = append(to, d.UserID)
		}
	}
	slices.Sort(to)
	want := []string{"sim_mgr1", "sim_mgr2", "sim_s1", "sim_s2", "sim_s3", "sim_s4", "sim_s5", "sim_s6", "sim_s7", "sim_s8"}
	if !slices.Equal(to, want) {
		t.Errorf("department send reached %v", to)
	}
}

func TestWorkNoticeRefusedBeforeSending(t *testing.T) {
	srv, c := env(t, dingtalktest.Options{}, nil)
	ctx := ctx(t)
	many := make([]string, dingtalk.MaxNoticeUsers+1)
	for i := range many {
		many[i] = "sim_s1"
	}
	tests := []struct {
		name string
		n    dingtalk.WorkNotice
	}{
		{"101 users", dingtalk.WorkNotice{UserIDs: many, Msg: dingtalk.TextMessage("x")}},
		{"21 departments", dingtalk.WorkNotice{DeptIDs: make([]int64, 21), Msg: dingtalk.TextMessage("x")}},
		{"msg over 2048 bytes", dingtalk.WorkNotice{UserIDs: []string{"sim_s1"}, Msg: dingtalk.TextMessage(strings.Repeat("客", 700))}},
		{"no recipient", dingtalk.WorkNotice{Msg: dingtalk.TextMessage("x")}},
		{"no msgtype", dingtalk.WorkNotice{UserIDs: []string{"sim_s1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := c.SendWorkNotice(ctx, tt.n); !errors.Is(err, dingtalk.ErrInvalidArgument) {
				t.Errorf("err = %v, want ErrInvalidArgument", err)
			}
		})
	}
	if n := srv.Calls(dingtalk.APIAsyncSend); n != 0 {
		t.Errorf("%d sends reached DingTalk, want 0", n)
	}
	// Exactly 100 users is fine.
	if _, err := c.SendWorkNotice(ctx, dingtalk.WorkNotice{UserIDs: many[:100], Msg: dingtalk.TextMessage("x")}); err != nil {
		t.Errorf("100 users: %v", err)
	}
}

func TestRobotMessages(t *testing.T) {
	srv, c := env(t, dingtalktest.Options{}, nil)
	ctx := ctx(t)
	users := make([]string, 45)
	for i := range users {
		users[i] = "sim_s1"
	}
	users[44] = "ghost"
	res, err := c.SendRobotMessage(ctx, dingtalk.RobotMessage{UserIDs: users, MsgKey: "sampleMarkdown",
		MsgParam: map[string]string{"title": "提醒", "text": "跟进 **张三**"}})
	if err != nil {
		t.Fatal(err)
	}
	if n := srv.Calls(dingtalk.APIRobotBatchSend); n != 3 {
		t.Errorf("%d batchSend calls, want 3 (batches of %d)", n, dingtalk.MaxRobotUsers)
	}
	if len(res.ProcessQueryKeys) != 3 || !slices.Equal(res.InvalidStaffIDs, []string{"ghost"}) {
		t.Errorf("result = %+v", res)
	}
	msgs := srv.RobotMessages()
	if len(msgs) != 44 || msgs[0].RobotCode != srv.AppKey() || msgs[0].MsgParam != `{"text":"跟进 **张三**","title":"提醒"}` {
		t.Errorf("robot messages: %d, first %+v", len(msgs), msgs[0])
	}

	hook := srv.AddWebhookRobot("grouptoken", "SECsecret")
	msg := dingtalk.WebhookMessage{MsgType: "text", Text: &dingtalk.Text{Content: "今日签约 2 单"}}
	if err := c.SendWebhook(ctx, hook, "SECsecret", msg); err != nil {
		t.Fatalf("signed webhook: %v", err)
	}
	var de *dingtalk.Error
	if err := c.SendWebhook(ctx, hook, "SECwrong", msg); !errors.As(err, &de) || de.ErrCode != 310000 {
		t.Errorf("wrong secret: err = %v, want errcode 310000", err)
	}
	session := srv.IssueSessionWebhook("conv1")
	if err := c.SendWebhook(ctx, session, "", msg); err != nil {
		t.Errorf("session webhook: %v", err)
	}
	kinds := map[string]int{}
	for _, m := range srv.RobotMessages() {
		kinds[m.Kind]++
	}
	if kinds["webhook"] != 1 || kinds["session"] != 1 {
		t.Errorf("kinds = %v", kinds)
	}
}

func TestCreateTodo(t *testing.T) {
	srv, c := env(t, dingtalktest.Options{}, nil)
	ctx := ctx(t)
	due := time.Date(2026, 9, 1, 10, 0, 0, 0, time.UTC)
	todo := dingtalk.Todo{
		CreatorUnionID: "union_sim_mgr1", Subject: "回访客户 张三", Description: "确认报价", SourceID: "reminder-7",
		DueTime: due, ExecutorIDs: []string{"union_sim_s1"}, AppURL: "https://crm.example.com/m/r/7",
		PCURL: "https://crm.example.com/r/7", Priority: 20, DingNotify: true,
		Fields: []dingtalk.TodoField{{Key: "客户", Value: "张三"}},
	}
	got, err := c.CreateTodo(ctx, todo)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID == "" || got.SourceID != "reminder-7" || got.RequestID == "" {
		t.Errorf("created %+v", got)
	}
	todos := srv.Todos()
	if len(todos) != 1 || todos[0].OperatorID != "union_sim_mgr1" || todos[0].DueTime != due.UnixMilli() ||
		!slices.Equal(todos[0].ExecutorIDs, []string{"union_sim_s1"}) || todos[0].DingNotify != "1" || todos[0].Priority != 20 {
		t.Errorf("fake has %+v", todos)
	}
	_, err = c.CreateTodo(ctx, todo)
	var de *dingtalk.Error
	if !errors.As(err, &de) || de.HTTPStatus != 400 || de.Code != "todo.taskCreate.paramError" || de.Message != "task exist" || de.RequestID == "" {
		t.Errorf("same sourceId again: %#v", err)
	}
	if _, err := c.CreateTodo(ctx, dingtalk.Todo{CreatorUnionID: "union_sim_mgr1"}); !errors.Is(err, dingtalk.ErrInvalidArgument) {
		t.Errorf("no subject: err = %v", err)
	}
}

func TestErrorCarriesWireFields(t *testing.T) {
	srv, c := env(t, dingtalktest.Options{}, nil)
	ctx := ctx(t)
	tests := []struct {
		name    string
		setup   func()
		call    func() error
		want    dingtalk.Error // API, HTTPStatus, ErrCode, Code, SubCode compared; Message and RequestID must be set
		matches error
	}{
		{"old style errcode", func() {}, func() error { _, err := c.GetUser(ctx, "nobody"); return err },
			dingtalk.Error{API: dingtalk.APIUserGet, HTTPStatus: 200, ErrCode: 60121}, dingtalk.ErrNotFound},
		{"old style with sub_code", func() { srv.FailNext(dingtalk.APIUserGet, 88, 1) },
			func() error { _, err := c.GetUser(ctx, "sim_s1"); return err },
			dingtalk.Error{API: dingtalk.APIUserGet, HTTPStatus: 200, ErrCode: 88, SubCode: "60011"}, dingtalk.ErrNoPermission},
		{"new style", func() { srv.FailNext(dingtalk.APITodoCreate, 90020, 1) },
			func() error {
				_, err := c.CreateTodo(ctx, dingtalk.Todo{CreatorUnionID: "union_sim_s1", Subject: "x", AppURL: "https://x"})
				return err
			},
			dingtalk.Error{API: dingtalk.APITodoCreate, HTTPStatus: 403, Code: "Forbidden.AccessDenied.ApiCountLimitForOrg"}, dingtalk.ErrQuotaExhausted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.setup()
			err := tt.call()
			var de *dingtalk.Error
			if !errors.As(err, &de) {
				t.Fatalf("err = %v, want *dingtalk.Error", err)
			}
			got := *de
			if got.Message == "" || got.RequestID == "" {
				t.Errorf("message %q, request id %q: both must be set", got.Message, got.RequestID)
			}
			got.Message, got.RequestID = "", ""
			if got != tt.want {
				t.Errorf("error = %+v, want %+v", got, tt.want)
			}
			if !errors.Is(err, tt.matches) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.matches)
			}
			if !strings.Contains(err.Error(), de.RequestID) {
				t.Errorf("Error() %q lacks the request id", err.Error())
			}
		})
	}
}

// The SDK's clients are not safe for concurrent use; the client must be
// (run with -race).
func TestSDKCallsConcurrently(t *testing.T) {
	srv, c := env(t, dingtalktest.Options{QPS: -1}, nil)
	ctx := ctx(t)
	tok, err := c.GetUserToken(ctx, srv.IssueOAuthCode("sim_s1"))
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 40)
	for i := range 20 {
		go func() {
			_, err := c.CreateTodo(ctx, dingtalk.Todo{CreatorUnionID: "union_sim_s1", Subject: "并发", AppURL: "https://x", SourceID: fmt.Sprint("c", i)})
			errs <- err
		}()
		go func() {
			_, err := c.GetMe(ctx, tok.AccessToken)
			errs <- err
		}()
	}
	for range 40 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if n := len(srv.Todos()); n != 20 {
		t.Errorf("%d to-dos, want 20", n)
	}
}
