package dingtalktest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dingcrm/crm/dingtalk"
)

// Work-notification limits the fake enforces (dingtalk-api.md §5).
const (
	MaxUsersPerCall = 100
	MaxDeptsPerCall = 20
	MaxMsgBytes     = 2048
	DailyPerUser    = 500 // an internal app's messages per user per day
)

// chinaTime is Asia/Shanghai (UTC+8, no DST): the day of the
// same-content-once-a-day rule and of the daily cap.
var chinaTime = time.FixedZone("CST", 8*3600)

// Delivery is a work notification as one person received it.
type Delivery struct {
	TaskID  int64
	AgentID int64
	UserID  string
	MsgType string
	Msg     json.RawMessage // the msg object as sent
	Title   string          // title of markdown, action_card, link, oa
	Text    string          // content, markdown text, card markdown, link text
	At      time.Time
	Read    bool
}

type task struct {
	agentID   int64
	created   time.Time
	invalid   []string
	invDepts  []int64
	delivered []string
	forbidden []forbidden
	read      map[string]bool
}

type forbidden struct {
	code   string
	userID string
}

// Deliveries returns every delivered work notification, oldest first.
// Dropped ones (duplicate content, daily cap) are not in it: see
// getsendresult's forbidden_list.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Delivery, len(s.delivers))
	copy(out, s.delivers)
	for i := range out {
		out[i].Read = s.tasks[out[i].TaskID] != nil && s.tasks[out[i].TaskID].read[out[i].UserID]
	}
	return out
}

// DeliveriesTo returns the deliveries to one person.
func (s *Server) DeliveriesTo(userID string) []Delivery {
	var out []Delivery
	for _, d := range s.Deliveries() {
		if d.UserID == userID {
			out = append(out, d)
		}
	}
	return out
}

// MarkRead marks a task's message as read by userID (read_user_id_list).
func (s *Server) MarkRead(taskID int64, userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.tasks[taskID]; t != nil {
		t.read[userID] = true
	}
}

type sendReq struct {
	AgentID   json.Number     `json:"agent_id"`
	UserIDs   string          `json:"userid_list"`
	DeptIDs   string          `json:"dept_id_list"`
	ToAllUser bool            `json:"to_all_user"`
	Msg       json.RawMessage `json:"msg"`
	TaskID    json.Number     `json:"task_id"`
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// msgBody returns the msg object; a JSON string holding the object is
// accepted too (both are seen in clients).
func msgBody(raw json.RawMessage) (json.RawMessage, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, false
		}
		raw = json.RawMessage(s)
	}
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return nil, false
	}
	return raw, true
}

func (s *Server) asyncSend(_ *http.Request, body []byte, _ caller) (any, *apiErr) {
	var in sendReq
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if agent, _ := in.AgentID.Int64(); agent != s.opts.AgentID {
		return nil, errc(40056, "不合法的agentid")
	}
	users, depts := splitList(in.UserIDs), splitList(in.DeptIDs)
	if len(users) > MaxUsersPerCall {
		return nil, errc(40035, "不合法的参数: userid_list最多100个")
	}
	if len(depts) > MaxDeptsPerCall {
		return nil, errc(40035, "不合法的参数: dept_id_list最多20个")
	}
	if len(users) == 0 && len(depts) == 0 && !in.ToAllUser {
		return nil, errc(40035, "不合法的参数: 接收者为空")
	}
	msg, ok := msgBody(in.Msg)
	if !ok {
		return nil, errc(40035, "不合法的参数: msg")
	}
	var compact bytes.Buffer
	if json.Compact(&compact, msg) != nil {
		return nil, errc(40035, "不合法的参数: msg")
	}
	if compact.Len() > MaxMsgBytes {
		return nil, errc(40035, "不合法的参数: msg超过2048字节")
	}
	var head struct {
		MsgType string `json:"msgtype"`
	}
	_ = json.Unmarshal(msg, &head)
	if head.MsgType == "" {
		return nil, errc(40035, "不合法的参数: msgtype")
	}
	now := s.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextTask++
	t := &task{agentID: s.opts.AgentID, created: now, read: map[string]bool{}}
	s.tasks[s.nextTask] = t
	recipients := s.recipients(t, users, depts, in.ToAllUser)
	day := now.In(chinaTime).Format("2006-01-02")
	sum := sha256.Sum256(compact.Bytes())
	hash := hex.EncodeToString(sum[:8])
	title, text := msgText(msg)
	for _, id := range recipients {
		if s.daily[day+"|"+id] >= DailyPerUser {
			t.forbidden = append(t.forbidden, forbidden{dingtalk.DropDailyCap, id})
			continue
		}
		key := day + "|" + id + "|" + hash
		if s.seen[key] {
			t.forbidden = append(t.forbidden, forbidden{dingtalk.DropDuplicateContent, id})
			continue
		}
		s.seen[key] = true
		s.daily[day+"|"+id]++
		t.delivered = append(t.delivered, id)
		s.delivers = append(s.delivers, Delivery{
			TaskID: s.nextTask, AgentID: t.agentID, UserID: id, MsgType: head.MsgType,
			Msg: append(json.RawMessage(nil), compact.Bytes()...), Title: title, Text: text, At: now,
		})
	}
	return map[string]any{"task_id": s.nextTask}, nil
}

// recipients resolves the userid and department lists (sub-departments
// included) to distinct people, recording unknown ones on the task.
func (s *Server) recipients(t *task, users, depts []string, all bool) []string {
	seen := map[string]bool{}
	var out []string
	add := func(id string) {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	for _, id := range users {
		if s.org.users[id] == nil {
			t.invalid = append(t.invalid, id)
			continue
		}
		add(id)
	}
	for _, ds := range depts {
		d, err := strconv.ParseInt(ds, 10, 64)
		if err != nil || s.org.depts[d] == nil {
			t.invDepts = append(t.invDepts, d)
			continue
		}
		for _, sub := range s.org.subtree(d) {
			for _, id := range s.org.membersOf(sub) {
				add(id)
			}
		}
	}
	if all {
		var ids []string
		for id := range s.org.users {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			add(id)
		}
	}
	return out
}

// msgText pulls the human-readable title and text out of a msg object.
func msgText(msg json.RawMessage) (string, string) {
	var m struct {
		Text     struct{ Content string }         `json:"text"`
		Markdown struct{ Title, Text string }     `json:"markdown"`
		Link     struct{ Title, Text string }     `json:"link"`
		Card     struct{ Title, Markdown string } `json:"action_card"`
		OA       struct {
			Body struct{ Title, Content string } `json:"body"`
		} `json:"oa"`
	}
	_ = json.Unmarshal(msg, &m)
	switch {
	case m.Markdown.Text != "" || m.Markdown.Title != "":
		return m.Markdown.Title, m.Markdown.Text
	case m.Card.Markdown != "" || m.Card.Title != "":
		return m.Card.Title, m.Card.Markdown
	case m.Link.Text != "" || m.Link.Title != "":
		return m.Link.Title, m.Link.Text
	case m.OA.Body.Title != "" || m.OA.Body.Content != "":
		return m.OA.Body.Title, m.OA.Body.Content
	}
	return "", m.Text.Content
}

func (s *Server) findTask(body []byte) (*task, *apiErr) {
	var in sendReq
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if agent, _ := in.AgentID.Int64(); agent != s.opts.AgentID {
		return nil, errc(40056, "不合法的agentid")
	}
	id, _ := in.TaskID.Int64()
	t := s.tasks[id]
	if t == nil || s.Now().Sub(t.created) > 24*time.Hour {
		return nil, errc(40035, "不合法的参数: task_id不存在或已超过24小时")
	}
	return t, nil
}

func (s *Server) sendProgress(_ *http.Request, body []byte, _ caller) (any, *apiErr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, e := s.findTask(body); e != nil {
		return nil, e
	}
	return map[string]any{"progress": map[string]any{"progress_in_percent": 100, "status": 2}}, nil
}

func (s *Server) sendResult(_ *http.Request, body []byte, _ caller) (any, *apiErr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e := s.findTask(body)
	if e != nil {
		return nil, e
	}
	read, unread := []string{}, []string{}
	for _, id := range t.delivered {
		if t.read[id] {
			read = append(read, id)
		} else {
			unread = append(unread, id)
		}
	}
	forbUsers, forbList := []string{}, []map[string]any{}
	for _, f := range t.forbidden {
		forbUsers = append(forbUsers, f.userID)
		forbList = append(forbList, map[string]any{"code": f.code, "count": 1, "userid": f.userID})
	}
	return map[string]any{"send_result": map[string]any{
		"invalid_user_id_list": nonNil(t.invalid), "forbidden_user_id_list": forbUsers,
		"failed_user_id_list": []string{}, "read_user_id_list": read, "unread_user_id_list": unread,
		"invalid_dept_id_list": nonNilInts(t.invDepts), "forbidden_list": forbList,
	}}, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilInts(s []int64) []int64 {
	if s == nil {
		return []int64{}
	}
	return s
}
