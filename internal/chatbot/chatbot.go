// Package chatbot is the enterprise internal robot (企业内部机器人): a
// person writes to it in DingTalk (1:1, or @-mentioning it in a group) and
// it answers through the message's sessionWebhook, acting as that person
// with their own permissions and data scope. The same Handle serves the
// HTTP callback (POST /dingtalk/robot) and Stream mode.
package chatbot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/dingcrm/crm/dingtalk"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/followup"
	"github.com/dingcrm/crm/internal/i18n"
	"github.com/dingcrm/crm/internal/kv"
	"github.com/dingcrm/crm/internal/sale"
	"github.com/dingcrm/crm/internal/store"
)

// Message is a robot message as DingTalk delivers it (the HTTP callback's
// body and the Stream callback's data have the same fields).
type Message struct {
	MsgID   string `json:"msgId"`
	MsgType string `json:"msgtype"`
	Text    struct {
		Content string `json:"content"`
	} `json:"text"`
	ConversationType          string `json:"conversationType"` // "1" 1:1, "2" group
	ConversationID            string `json:"conversationId"`
	SenderStaffID             string `json:"senderStaffId"`
	SenderNick                string `json:"senderNick"`
	SessionWebhook            string `json:"sessionWebhook"`
	SessionWebhookExpiredTime int64  `json:"sessionWebhookExpiredTime"`
	IsInAtList                bool   `json:"isInAtList"`
	CreateAt                  int64  `json:"createAt"`
	RobotCode                 string `json:"robotCode"`
}

// Replier posts to a sessionWebhook; *dingtalk.Client is one.
type Replier interface {
	SendWebhook(ctx context.Context, webhook, secret string, msg dingtalk.WebhookMessage) error
}

// Reminders is what the bot needs of the reminders module: set one for
// the Actor on a customer, and list the Actor's reminders of a day.
type Reminders interface {
	Add(ctx context.Context, a *auth.Actor, customerID int64, at time.Time, text string) error
	Today(ctx context.Context, a *auth.Actor, now time.Time) ([]Reminder, error)
}

// Reminder is one line of 今日.
type Reminder struct {
	At       time.Time
	Customer string
	Text     string
	Done     bool
}

// Deps are the services the bot acts through.
type Deps struct {
	DB        *store.DB
	KV        kv.Store
	Loader    *auth.Loader
	Customers *customer.Service
	Followups *followup.Service
	Sales     *sale.Service
	Reminders Reminders // nil: 提醒 and 今日 answer that reminders are not available
	Replier   Replier
	// AppSecret verifies the HTTP callback's signature.
	AppSecret string
	// WebhookAllowed vets a message's sessionWebhook before anything is
	// posted to it (DingTalk's own host in production); nil allows any.
	WebhookAllowed func(url string) bool
	Messages       i18n.Catalog
	Lang           string // the company's default language
	Location       *time.Location
	// PublicURL is where people open the CRM (links in answers); empty
	// gives the in-app route only.
	PublicURL string
	Log       *slog.Logger
	Now       func() time.Time
}

// Service answers robot messages.
type Service struct {
	d Deps
}

// New returns the bot.
func New(d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{d: d}
}

// UseReminders connects the reminders module (提醒 and 今日); until it is
// called those commands say reminders are not available. Call it before
// the bot takes messages.
func (s *Service) UseReminders(r Reminders) { s.d.Reminders = r }

// Handle answers one message. A group message that does not @-mention the
// robot is ignored; a message delivered twice (same msgId) is answered
// once. The error is that of the reply's delivery, or of the once-only
// guard: when kv (Redis) cannot say whether the message was seen, it is
// not handled — a command such as adding a follow-up must not run twice
// if DingTalk redelivers it, and going unanswered during the outage is
// the lesser harm.
func (s *Service) Handle(ctx context.Context, m Message) error {
	if m.ConversationType == "2" && !m.IsInAtList {
		return nil
	}
	if m.MsgID != "" {
		first, err := s.d.KV.SetNX(ctx, "bot:msg:"+m.MsgID, "1", 2*time.Hour)
		if err != nil {
			return fmt.Errorf("chatbot: message %s not handled: the once-only guard is unavailable: %w", m.MsgID, err)
		}
		if !first {
			return nil
		}
	}
	if m.SessionWebhook == "" {
		return errors.New("chatbot: message without a sessionWebhook")
	}
	if s.d.WebhookAllowed != nil && !s.d.WebhookAllowed(m.SessionWebhook) {
		return errors.New("chatbot: sessionWebhook outside DingTalk refused")
	}
	title, text := s.answer(ctx, m)
	msg := dingtalk.WebhookMessage{MsgType: "markdown", Markdown: &dingtalk.Markdown{Title: title, Text: text}}
	if m.ConversationType == "2" && m.SenderStaffID != "" {
		msg.At = &dingtalk.At{AtUserIDs: []string{m.SenderStaffID}}
	}
	if err := s.d.Replier.SendWebhook(ctx, m.SessionWebhook, "", msg); err != nil {
		return fmt.Errorf("chatbot: reply: %w", err)
	}
	return nil
}

// HandleJSON answers a message given as the callback's JSON body.
func (s *Service) HandleJSON(ctx context.Context, body []byte) error {
	var m Message
	if err := json.Unmarshal(body, &m); err != nil {
		return fmt.Errorf("chatbot: message: %w", err)
	}
	return s.Handle(ctx, m)
}

// actorFor maps the sender's DingTalk userid to an active CRM person.
func (s *Service) actorFor(ctx context.Context, userid string) (*auth.Actor, error) {
	if userid == "" {
		return nil, nil
	}
	var id int64
	err := s.d.DB.GetContext(ctx, &id, "SELECT id FROM users WHERE userid = ? AND active = 1", userid)
	if store.IsNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("chatbot: sender: %w", err)
	}
	a, err := s.d.Loader.Load(ctx, id)
	if errors.Is(err, auth.ErrInactive) {
		return nil, nil
	}
	return a, err
}

func (s *Service) t(lang, key string, args map[string]any) string {
	return s.d.Messages.T(lang, key, args)
}

// answer builds the reply (title, markdown) to m.
func (s *Service) answer(ctx context.Context, m Message) (string, string) {
	a, err := s.actorFor(ctx, m.SenderStaffID)
	if err != nil {
		s.d.Log.Error("chatbot: sender not looked up", "err", err)
		return "CRM", s.t(s.d.Lang, "bot.error", nil)
	}
	if a == nil {
		// Nobody we know: both languages, since we cannot know theirs.
		return "CRM", s.t("zh-CN", "bot.unknown_sender", nil) + "\n\n" + s.t("en", "bot.unknown_sender", nil)
	}
	lang := a.Lang
	if lang == "" {
		lang = s.d.Lang
	}
	return "CRM", s.run(ctx, a, lang, cleanText(m.Text.Content))
}

// cleanText drops @-mentions left in a group message's text.
func cleanText(s string) string {
	var keep []string
	for _, f := range strings.Fields(s) {
		if !strings.HasPrefix(f, "@") {
			keep = append(keep, f)
		}
	}
	return strings.Join(keep, " ")
}
