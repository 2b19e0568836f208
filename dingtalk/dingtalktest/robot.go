package dingtalktest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/dingcrm/crm/dingtalk"
)

// RobotMessage is a robot message the fake accepted.
type RobotMessage struct {
	Kind           string // "oto" (1:1 batchSend), "group", "webhook", "session"
	RobotCode      string
	UserID         string // oto: the recipient
	ConversationID string // group: openConversationId; session: the conversation
	WebhookToken   string // webhook: the custom robot's access_token
	MsgKey         string // oto, group
	MsgParam       string // oto, group: the msgParam JSON string
	Body           json.RawMessage
	At             time.Time
}

// RobotMessages returns every robot message accepted, oldest first.
func (s *Server) RobotMessages() []RobotMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]RobotMessage(nil), s.robots...)
}

// AddWebhookRobot registers a custom group robot: its webhook is
// URL()+"/robot/send?access_token="+token; with a secret ("SEC…") every
// send must be signed. It returns the webhook URL.
func (s *Server) AddWebhookRobot(token, secret string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webhooks[token] = secret
	return s.URL() + "/robot/send?access_token=" + token
}

type session struct {
	conversation string
	expires      time.Time
}

// IssueSessionWebhook returns a sessionWebhook URL for a robot
// conversation, as a robot callback carries it; it expires in 90 minutes.
func (s *Server) IssueSessionWebhook(conversationID string) string {
	id := newID(24)
	exp := s.Now().Add(90 * time.Minute)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions[id] = session{conversation: conversationID, expires: exp}
	return s.URL() + "/robot/sendBySession?session=" + id
}

var robotMsgKeys = []string{
	"sampleText", "sampleMarkdown", "sampleLink", "sampleActionCard", "sampleActionCard2",
	"sampleActionCard3", "sampleActionCard4", "sampleActionCard5", "sampleActionCard6",
	"sampleImageMsg", "sampleFile", "sampleAudio", "sampleVideo",
}

func checkMsg(key, param string) *apiErr {
	if !slices.Contains(robotMsgKeys, key) {
		return errNew(400, "invalidParameter.msgKey", "msgKey不合法")
	}
	var m map[string]any
	if json.Unmarshal([]byte(param), &m) != nil {
		return errNew(400, "invalidParameter.msgParam", "msgParam必须是JSON字符串")
	}
	return nil
}

func (s *Server) robotBatchSend(_ *http.Request, body []byte, _ caller) (any, *apiErr) {
	var in struct {
		RobotCode string   `json:"robotCode"`
		UserIDs   []string `json:"userIds"`
		MsgKey    string   `json:"msgKey"`
		MsgParam  string   `json:"msgParam"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, errNew(400, "invalidParameter", "bad body")
	}
	if in.RobotCode != s.opts.RobotCode {
		return nil, errNew(400, "invalidParameter.robotCode", "robotCode不存在")
	}
	if len(in.UserIDs) == 0 || len(in.UserIDs) > s.opts.RobotBatchLimit {
		return nil, errNew(400, "overMax", "userIds超过最大值"+strconv.Itoa(s.opts.RobotBatchLimit))
	}
	if e := checkMsg(in.MsgKey, in.MsgParam); e != nil {
		return nil, e
	}
	now := s.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	invalid := []string{}
	for _, id := range in.UserIDs {
		if s.org.users[id] == nil {
			invalid = append(invalid, id)
			continue
		}
		s.robots = append(s.robots, RobotMessage{Kind: "oto", RobotCode: in.RobotCode, UserID: id,
			MsgKey: in.MsgKey, MsgParam: in.MsgParam, Body: body, At: now})
	}
	return map[string]any{"processQueryKey": newID(24), "invalidStaffIdList": invalid,
		"flowControlledStaffIdList": []string{}}, nil
}

func (s *Server) robotGroupSend(_ *http.Request, body []byte, _ caller) (any, *apiErr) {
	var in struct {
		RobotCode      string `json:"robotCode"`
		ConversationID string `json:"openConversationId"`
		MsgKey         string `json:"msgKey"`
		MsgParam       string `json:"msgParam"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, errNew(400, "invalidParameter", "bad body")
	}
	if in.RobotCode != s.opts.RobotCode {
		return nil, errNew(400, "invalidParameter.robotCode", "robotCode不存在")
	}
	if in.ConversationID == "" {
		return nil, errNew(400, "invalidParameter.openConversationId", "openConversationId为空")
	}
	if e := checkMsg(in.MsgKey, in.MsgParam); e != nil {
		return nil, e
	}
	now := s.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.robots = append(s.robots, RobotMessage{Kind: "group", RobotCode: in.RobotCode, ConversationID: in.ConversationID,
		MsgKey: in.MsgKey, MsgParam: in.MsgParam, Body: body, At: now})
	return map[string]any{"processQueryKey": newID(24)}, nil
}

// webhookBody checks a custom robot / session message body.
func webhookBody(body []byte) *apiErr {
	var m struct {
		MsgType string `json:"msgtype"`
	}
	if json.Unmarshal(body, &m) != nil || m.MsgType == "" {
		return errc(40035, "缺少参数 msgtype")
	}
	return nil
}

func (s *Server) robotWebhook(r *http.Request, body []byte, _ caller) (any, *apiErr) {
	q := r.URL.Query()
	token := q.Get("access_token")
	now := s.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	secret, ok := s.webhooks[token]
	if !ok {
		return nil, errc(400101, "token不存在")
	}
	if secret != "" {
		if err := dingtalk.VerifyRobotRequest(secret, q.Get("timestamp"), q.Get("sign"), now); err != nil {
			return nil, errc(310000, "sign not match: "+err.Error())
		}
	}
	if e := webhookBody(body); e != nil {
		return nil, e
	}
	recent := s.hookSent[token][:0]
	for _, t := range s.hookSent[token] {
		if now.Sub(t) < time.Minute {
			recent = append(recent, t)
		}
	}
	if len(recent) >= 20 {
		s.hookSent[token] = recent
		return nil, errc(410100, "send too fast, exceed 20 times per minute")
	}
	s.hookSent[token] = append(recent, now)
	s.robots = append(s.robots, RobotMessage{Kind: "webhook", WebhookToken: token, Body: body, At: now})
	return map[string]any{}, nil
}

func (s *Server) robotSession(r *http.Request, body []byte, _ caller) (any, *apiErr) {
	id := r.URL.Query().Get("session")
	now := s.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	if !ok || now.After(sess.expires) {
		return nil, errc(400101, "session不存在或已过期")
	}
	if e := webhookBody(body); e != nil {
		return nil, e
	}
	s.robots = append(s.robots, RobotMessage{Kind: "session", ConversationID: sess.conversation, Body: body, At: now})
	return map[string]any{}, nil
}
