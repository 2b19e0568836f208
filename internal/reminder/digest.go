package reminder

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/outbox"
)

// digestWords are the digest's fixed strings.
var digestWords = map[string]map[string]string{
	"zh-CN": {"title": "今日工作 %s", "today": "今天的提醒 %d 条", "overdue": "逾期未处理的提醒 %d 条",
		"follow": "今天要跟进的客户 %d 个", "late": "已过跟进时间的客户 %d 个", "pool": "即将退回公海的客户 %d 个", "more": "等",
		"returns": "%s 退回"},
	"en": {"title": "Today %s", "today": "Reminders today: %d", "overdue": "Overdue reminders: %d",
		"follow": "Customers to follow up today: %d", "late": "Customers past their follow-up time: %d",
		"pool": "Customers about to return to the public pool: %d", "more": "and more", "returns": "returns %s"},
}

const digestLines = 5

// MorningDigest is the morning-digest job: for every active person with
// something to do it enqueues one message (the day's reminders and
// follow-ups, the overdue ones, and their customers about to return to the
// public pool). The dedup key holds the date, so a second run the same day
// adds nothing.
func (s *Service) MorningDigest(ctx context.Context, now time.Time) (string, error) {
	t := now.In(s.loc)
	start := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, s.loc).UTC()
	end := time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, s.loc).UTC()
	date := t.Format("2006-01-02")
	var people []struct {
		ID   int64  `db:"id"`
		Lang string `db:"lang"`
	}
	if err := s.db.SelectContext(ctx, &people, "SELECT id, lang FROM users WHERE active = 1 ORDER BY id"); err != nil {
		return "", fmt.Errorf("reminder: digest people: %w", err)
	}
	var msgs []outbox.Message
	for _, p := range people {
		body, err := s.digestBody(ctx, p.ID, p.Lang, now, start, end)
		if err != nil {
			return "", err
		}
		if body == "" {
			continue
		}
		w := digestWords[lang(p.Lang)]
		msgs = append(msgs, outbox.Message{UserID: p.ID, Kind: outbox.KindDigest, Title: fmt.Sprintf(w["title"], date),
			Body: body, URL: "#/reminders", DedupKey: fmt.Sprintf("digest:%s:%d", date, p.ID), DueAt: now})
	}
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error { return outbox.Enqueue(ctx, tx, msgs...) })
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("digests for %d of %d people", len(msgs), len(people)), nil
}

func lang(l string) string {
	if l == "en" {
		return "en"
	}
	return "zh-CN"
}

type line struct {
	At   time.Time `db:"at"`
	Name string    `db:"name"`
	Text string    `db:"text"`
}

// digestBody is one person's digest (empty when there is nothing).
func (s *Service) digestBody(ctx context.Context, uid int64, l string, now, start, end time.Time) (string, error) {
	w := digestWords[lang(l)]
	var b strings.Builder
	section := func(head string, q string, args ...any) error {
		var n int
		if err := s.db.GetContext(ctx, &n, "SELECT COUNT(*) FROM ("+q+") x", args...); err != nil {
			return fmt.Errorf("reminder: digest: %w", err)
		}
		if n == 0 {
			return nil
		}
		var rows []line
		if err := s.db.SelectContext(ctx, &rows, q+fmt.Sprintf(" ORDER BY at LIMIT %d", digestLines), args...); err != nil {
			return fmt.Errorf("reminder: digest: %w", err)
		}
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		fmt.Fprintf(&b, "**"+head+"**", n)
		for _, r := range rows {
			fmt.Fprintf(&b, "\n- %s %s", r.At.In(s.loc).Format("01-02 15:04"), cut(r.Name, 20))
			if r.Text != "" {
				b.WriteString("：" + cut(strings.ReplaceAll(r.Text, "\n", " "), 30))
			}
		}
		if n > len(rows) {
			b.WriteString("\n- … " + w["more"])
		}
		return nil
	}
	rem := `SELECT r.remind_at AS at, c.name AS name, r.content AS text FROM reminders r
		JOIN reminder_recipients me ON me.reminder_id = r.id AND me.user_id = ?
		JOIN customers c ON c.id = r.customer_id AND c.deleted_at IS NULL WHERE r.status = 'pending' AND `
	cust := `SELECT c.next_follow_at AS at, c.name AS name, '' AS text FROM customers c
		WHERE c.owner_id = ? AND c.deleted_at IS NULL AND `
	steps := []struct {
		head, q string
		args    []any
	}{
		{w["today"], rem + "r.remind_at >= ? AND r.remind_at < ?", []any{uid, start, end}},
		{w["overdue"], rem + "r.remind_at < ?", []any{uid, start}},
		{w["follow"], cust + "c.next_follow_at >= ? AND c.next_follow_at < ?", []any{uid, start, end}},
		{w["late"], cust + "c.next_follow_at < ?", []any{uid, start}},
		{w["pool"], `SELECT MIN(pw.due_at) AS at, c.name AS name, '' AS text FROM pool_warnings pw
			JOIN customers c ON c.id = pw.customer_id AND c.owner_id = pw.owner_id AND c.deleted_at IS NULL
			WHERE pw.owner_id = ? AND pw.due_at > ? GROUP BY c.id, c.name`, []any{uid, now}},
	}
	for _, st := range steps {
		if err := section(st.head, st.q, st.args...); err != nil {
			return "", err
		}
	}
	return b.String(), nil
}
