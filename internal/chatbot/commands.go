package chatbot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/followup"
	"github.com/dingcrm/crm/internal/product"
	"github.com/dingcrm/crm/internal/sale"
)

// The commands and their words in both languages.
var commands = map[string]string{
	"帮助": "help", "help": "help", "?": "help", "？": "help",
	"客户": "customer", "customer": "customer", "customers": "customer",
	"跟进": "followup", "followup": "followup", "follow": "followup",
	"提醒": "remind", "remind": "remind",
	"今日": "today", "今天": "today", "today": "today",
	"业绩": "sales", "sales": "sales",
}

// The choice a person must make when a customer name was ambiguous is
// kept in kv for pendingTTL.
const pendingTTL = 5 * time.Minute

const maxMatches = 5

type pending struct {
	Cmd        string      `json:"cmd"` // followup | remind
	Candidates []candidate `json:"candidates"`
	Content    string      `json:"content"`
	At         time.Time   `json:"at"`
}

type candidate struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

func pendingKey(a *auth.Actor) string { return fmt.Sprintf("bot:pending:%d", a.UserID) }

// run executes one command for a and answers in lang.
func (s *Service) run(ctx context.Context, a *auth.Actor, lang, text string) string {
	if n, err := strconv.Atoi(text); err == nil {
		if out, ok := s.choose(ctx, a, lang, n); ok {
			return out
		}
	}
	word, rest, _ := strings.Cut(text, " ")
	cmd, ok := commands[strings.ToLower(word)]
	if !ok {
		// "客户张三" without a space.
		for w, c := range commands {
			if utf8.RuneCountInString(w) == 2 && strings.HasPrefix(text, w) {
				cmd, rest, ok = c, text[len(w):], true
				break
			}
		}
	}
	rest = strings.TrimSpace(rest)
	switch {
	case text == "" || cmd == "help":
		return s.t(lang, "bot.help", nil)
	case !ok:
		return s.t(lang, "bot.unknown_command", nil)
	case cmd == "customer":
		return s.search(ctx, a, lang, rest)
	case cmd == "followup":
		return s.followup(ctx, a, lang, rest)
	case cmd == "remind":
		return s.remind(ctx, a, lang, rest)
	case cmd == "today":
		return s.today(ctx, a, lang)
	}
	return s.sales(ctx, a, lang)
}

// link is a customer's address in the CRM.
func (s *Service) link(id int64) string {
	route := fmt.Sprintf("#/customers/%d", id)
	if s.d.PublicURL == "" {
		return route
	}
	return strings.TrimRight(s.d.PublicURL, "/") + "/" + route
}

func (s *Service) customerLine(i int, c candidate) string {
	if strings.HasPrefix(s.link(c.ID), "#") {
		return fmt.Sprintf("%d. %s (%s)", i, c.Name, s.link(c.ID))
	}
	return fmt.Sprintf("%d. [%s](%s)", i, c.Name, s.link(c.ID))
}

// errText says what went wrong in the person's language: a domain error's
// message (and its fields'), anything else a generic apology.
func (s *Service) errText(lang string, err error) string {
	var e *errs.Error
	if !errors.As(err, &e) {
		s.d.Log.Error("chatbot: command failed", "err", err)
		return s.t(lang, "bot.error", nil)
	}
	out := s.t(lang, e.Key, e.Args)
	names := make([]string, 0, len(e.Fields))
	for n := range e.Fields {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		out += "\n- " + s.t(lang, e.Fields[n].Key, e.Fields[n].Args)
	}
	return out
}

// find looks customers up by keyword in a's scope: an exact name match
// wins, else up to maxMatches candidates.
func (s *Service) find(ctx context.Context, a *auth.Actor, kw string) ([]candidate, error) {
	cs, _, err := s.d.Customers.List(ctx, a, customer.Filter{Q: kw, PageSize: maxMatches, Sort: "-updated_at"})
	if err != nil {
		return nil, err
	}
	out := make([]candidate, len(cs))
	for i, c := range cs {
		out[i] = candidate{ID: c.ID, Name: c.Name}
		if strings.EqualFold(c.Name, kw) {
			return []candidate{out[i]}, nil
		}
	}
	return out, nil
}

func (s *Service) search(ctx context.Context, a *auth.Actor, lang, kw string) string {
	if utf8.RuneCountInString(kw) < 2 {
		return s.t(lang, "bot.keyword_short", nil)
	}
	cs, _, err := s.d.Customers.List(ctx, a, customer.Filter{Q: kw, PageSize: maxMatches, Sort: "-updated_at"})
	if err != nil {
		return s.errText(lang, err)
	}
	if len(cs) == 0 {
		return s.t(lang, "bot.no_customer", map[string]any{"q": kw})
	}
	lines := []string{s.t(lang, "bot.customers_found", map[string]any{"q": kw})}
	for i, c := range cs {
		line := s.customerLine(i+1, candidate{ID: c.ID, Name: c.Name})
		if c.Company != "" {
			line += " · " + c.Company
		}
		// The list already shows the phone as a's field policy allows:
		// masked (138****1234), or empty when hidden.
		if c.Phone != "" {
			line += " · " + c.Phone
		}
		if c.OwnerName != "" {
			line += " · " + c.OwnerName
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n\n")
}

// resolve finds the one customer kw names. With several it stores p as the
// pending choice and returns the question; with none it says so.
func (s *Service) resolve(ctx context.Context, a *auth.Actor, lang, kw string, p pending) (*candidate, string) {
	if utf8.RuneCountInString(kw) < 2 {
		return nil, s.t(lang, "bot.keyword_short", nil)
	}
	cs, err := s.find(ctx, a, kw)
	if err != nil {
		return nil, s.errText(lang, err)
	}
	switch len(cs) {
	case 0:
		return nil, s.t(lang, "bot.no_customer", map[string]any{"q": kw})
	case 1:
		return &cs[0], ""
	}
	p.Candidates = cs
	b, _ := json.Marshal(p)
	if err := s.d.KV.Set(ctx, pendingKey(a), string(b), pendingTTL); err != nil {
		return nil, s.errText(lang, err)
	}
	lines := []string{s.t(lang, "bot.choose", map[string]any{"q": kw, "n": len(cs)})}
	for i, c := range cs {
		lines = append(lines, s.customerLine(i+1, c))
	}
	return nil, strings.Join(lines, "\n\n")
}

// choose completes a pending choice with the number n; ok is false when
// nothing was pending (the number is then an ordinary message).
func (s *Service) choose(ctx context.Context, a *auth.Actor, lang string, n int) (string, bool) {
	raw, found, err := s.d.KV.Get(ctx, pendingKey(a))
	if err != nil || !found {
		return "", false
	}
	var p pending
	if json.Unmarshal([]byte(raw), &p) != nil {
		return "", false
	}
	if n < 1 || n > len(p.Candidates) {
		return s.t(lang, "bot.choice_range", map[string]any{"n": len(p.Candidates)}), true
	}
	_ = s.d.KV.Del(ctx, pendingKey(a))
	c := p.Candidates[n-1]
	if p.Cmd == "remind" {
		return s.addReminder(ctx, a, lang, c, p.At, p.Content), true
	}
	return s.addFollowup(ctx, a, lang, c, p.Content), true
}

func (s *Service) followup(ctx context.Context, a *auth.Actor, lang, rest string) string {
	kw, content, _ := strings.Cut(rest, " ")
	content = strings.TrimSpace(content)
	if kw == "" || content == "" {
		return s.t(lang, "bot.followup_usage", nil)
	}
	if !a.Can(followup.PermCreate) {
		return s.errText(lang, errs.ErrForbidden)
	}
	c, reply := s.resolve(ctx, a, lang, kw, pending{Cmd: "followup", Content: content})
	if c == nil {
		return reply
	}
	return s.addFollowup(ctx, a, lang, *c, content)
}

func (s *Service) addFollowup(ctx context.Context, a *auth.Actor, lang string, c candidate, content string) string {
	at := s.d.Now().UTC().Format(time.RFC3339)
	method := "other"
	_, err := s.d.Followups.Create(ctx, a, followup.Input{CustomerID: &c.ID, FollowedAt: &at, Method: &method, Content: &content})
	if err != nil {
		return s.errText(lang, err)
	}
	return s.t(lang, "bot.followup_added", map[string]any{"customer": c.Name}) + "\n\n" + s.customerLine(1, c)[3:]
}

func (s *Service) remind(ctx context.Context, a *auth.Actor, lang, rest string) string {
	kw, tail, _ := strings.Cut(rest, " ")
	if kw == "" || strings.TrimSpace(tail) == "" {
		return s.t(lang, "bot.remind_usage", nil)
	}
	at, content, err := ParseWhen(tail, s.d.Now(), s.d.Location)
	switch {
	case errors.Is(err, ErrPastTime):
		return s.t(lang, "bot.time_past", nil)
	case err != nil:
		return s.t(lang, "bot.remind_usage", nil)
	case content == "":
		return s.t(lang, "bot.remind_usage", nil)
	}
	if s.d.Reminders == nil {
		return s.t(lang, "bot.reminders_unavailable", nil)
	}
	c, reply := s.resolve(ctx, a, lang, kw, pending{Cmd: "remind", Content: content, At: at})
	if c == nil {
		return reply
	}
	return s.addReminder(ctx, a, lang, *c, at, content)
}

func (s *Service) addReminder(ctx context.Context, a *auth.Actor, lang string, c candidate, at time.Time, content string) string {
	if s.d.Reminders == nil {
		return s.t(lang, "bot.reminders_unavailable", nil)
	}
	if err := s.d.Reminders.Add(ctx, a, c.ID, at, content); err != nil {
		return s.errText(lang, err)
	}
	return s.t(lang, "bot.reminder_added", map[string]any{"customer": c.Name,
		"at": at.In(s.d.Location).Format("2006-01-02 15:04"), "text": content})
}

func (s *Service) today(ctx context.Context, a *auth.Actor, lang string) string {
	if s.d.Reminders == nil {
		return s.t(lang, "bot.reminders_unavailable", nil)
	}
	rs, err := s.d.Reminders.Today(ctx, a, s.d.Now())
	if err != nil {
		return s.errText(lang, err)
	}
	if len(rs) == 0 {
		return s.t(lang, "bot.today_none", nil)
	}
	lines := []string{s.t(lang, "bot.today_title", map[string]any{"n": len(rs)})}
	for _, r := range rs {
		mark := "☐"
		if r.Done {
			mark = "☑"
		}
		lines = append(lines, fmt.Sprintf("%s %s %s · %s", mark, r.At.In(s.d.Location).Format("15:04"), r.Customer, r.Text))
	}
	return strings.Join(lines, "\n\n")
}

// sales answers month-to-date figures in a's scope: recorded sales (needs
// sale.view) and won opportunities (needs opportunity.view).
func (s *Service) sales(ctx context.Context, a *auth.Actor, lang string) string {
	now := s.d.Now().In(s.d.Location)
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, s.d.Location)
	var lines []string
	lines = append(lines, s.t(lang, "bot.sales_title", map[string]any{"from": first.Format(time.DateOnly), "to": now.Format(time.DateOnly)}))
	if a.Can(sale.PermView) {
		_, tot, err := s.d.Sales.List(ctx, a, sale.Filter{From: first.Format(time.DateOnly), To: now.Format(time.DateOnly), PageSize: 1})
		if err != nil {
			return s.errText(lang, err)
		}
		if a.Fields.Visible(sale.FieldAmount) {
			lines = append(lines, s.t(lang, "summary.sales", map[string]any{"n": tot.Count, "amount": product.FormatFen(tot.AmountFen)}))
		} else {
			lines = append(lines, s.t(lang, "bot.sales_count", map[string]any{"n": tot.Count}))
		}
	}
	if a.Can("opportunity.view") {
		cond, args := a.ScopeFilter("owner_id", "department_id")
		var won struct {
			N   int   `db:"n"`
			Fen int64 `db:"fen"`
		}
		err := s.d.DB.GetContext(ctx, &won, `SELECT COUNT(*) AS n, COALESCE(SUM(amount_fen), 0) AS fen FROM opportunities
			WHERE status = 'won' AND deleted_at IS NULL AND closed_at >= ? AND `+cond, append([]any{first.UTC()}, args...)...)
		if err != nil {
			return s.errText(lang, err)
		}
		if a.Fields.Visible("opportunity.amount") {
			lines = append(lines, s.t(lang, "summary.won", map[string]any{"n": won.N, "amount": product.FormatFen(won.Fen)}))
		} else {
			lines = append(lines, s.t(lang, "bot.won_count", map[string]any{"n": won.N}))
		}
	}
	if len(lines) == 1 {
		return s.errText(lang, errs.ErrForbidden)
	}
	return lines[0] + "\n\n- " + strings.Join(lines[1:], "\n- ")
}
