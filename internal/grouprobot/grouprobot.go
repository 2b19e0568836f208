// Package grouprobot keeps the custom group robots (自定义机器人) of the
// sales teams: one webhook with its "SEC…" signing secret per department,
// chosen by admins, to which the team's daily and weekly summaries are
// posted. The secret is write-only: answers say whether one is set and
// show at most its last four characters.
package grouprobot

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/dingtalk"
	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/store"
)

// The permissions: robots are company settings.
const (
	PermView   auth.Perm = "setting.view"
	PermManage auth.Perm = "setting.manage"
)

// ErrNotFound means the department has no robot (or does not exist).
var ErrNotFound = errs.NotFound("grouprobot.not_found")

// Robot is a department's group robot as the API shows it.
type Robot struct {
	DepartmentID   int64     `json:"department_id" db:"department_id"`
	DepartmentName string    `json:"department_name" db:"department_name"`
	Name           string    `json:"name" db:"name"`
	Webhook        string    `json:"webhook" db:"webhook"` // access_token masked
	Secret         Masked    `json:"secret" db:"-"`
	Enabled        bool      `json:"enabled" db:"enabled"`
	UpdatedAt      time.Time `json:"updated_at" db:"updated_at"`
	secret         string
}

// Masked shows whether a secret is set without showing it.
type Masked struct {
	Set    bool   `json:"set"`
	Masked string `json:"masked"`
}

// Mask shows at most the last four characters of a long secret.
func Mask(v string) Masked {
	switch {
	case v == "":
		return Masked{}
	case len(v) >= 16:
		return Masked{Set: true, Masked: "••••••" + v[len(v)-4:]}
	}
	return Masked{Set: true, Masked: "••••••"}
}

// maskWebhook hides the webhook's access_token (it alone lets anyone post
// to the group) but its last four characters; the rest of the query is
// dropped from the view.
func maskWebhook(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	view := u.Scheme + "://" + u.Host + u.Path
	if tok := u.Query().Get("access_token"); tok != "" {
		view += "?access_token=" + Mask(tok).Masked
	}
	return view
}

// Sender posts to a webhook; *dingtalk.Client is one.
type Sender interface {
	SendWebhook(ctx context.Context, webhook, secret string, msg dingtalk.WebhookMessage) error
}

// Service manages the robots and posts to them.
type Service struct {
	db     *store.DB
	sender Sender
}

// NewService returns the service; sender may be nil (no DingTalk), then
// Post fails.
func NewService(db *store.DB, sender Sender) *Service { return &Service{db: db, sender: sender} }

type row struct {
	Robot
	Secret string `db:"secret"`
}

const selectRobots = `SELECT r.department_id, COALESCE(d.name, '') AS department_name, r.name, r.webhook, r.secret,
	r.enabled, r.updated_at FROM group_robots r LEFT JOIN departments d ON d.id = r.department_id`

func (s *Service) load(ctx context.Context, where string, args ...any) ([]Robot, error) {
	var rows []row
	if err := s.db.SelectContext(ctx, &rows, selectRobots+where+" ORDER BY r.department_id", args...); err != nil {
		return nil, fmt.Errorf("grouprobot: list: %w", err)
	}
	out := make([]Robot, len(rows))
	for i, r := range rows {
		out[i] = r.Robot
		out[i].secret = r.Secret
		out[i].Secret = Mask(r.Secret)
		out[i].Webhook = maskWebhook(r.Webhook)
	}
	return out, nil
}

// List shows every department's robot.
func (s *Service) List(ctx context.Context, a *auth.Actor) ([]Robot, error) {
	if err := a.Require(PermView); err != nil {
		return nil, err
	}
	return s.load(ctx, "")
}

// Input sets a department's robot. Secret absent keeps the stored one; ""
// removes it.
type Input struct {
	Name    *string `json:"name"`
	Webhook *string `json:"webhook"`
	Secret  *string `json:"secret"`
	Enabled *bool   `json:"enabled"`
}

// Put creates or replaces a department's robot.
func (s *Service) Put(ctx context.Context, a *auth.Actor, deptID int64, in Input) (*Robot, error) {
	if err := a.Require(PermManage); err != nil {
		return nil, err
	}
	var exists int
	if err := s.db.GetContext(ctx, &exists, "SELECT COUNT(*) FROM departments WHERE id = ? AND removed_at IS NULL", deptID); err != nil {
		return nil, fmt.Errorf("grouprobot: department: %w", err)
	}
	if exists == 0 {
		return nil, errs.NotFound("grouprobot.no_department")
	}
	var old row
	err := s.db.GetContext(ctx, &old, selectRobots+" WHERE r.department_id = ?", deptID)
	found := err == nil
	if err != nil && !store.IsNoRows(err) {
		return nil, fmt.Errorf("grouprobot: get: %w", err)
	}
	next := old
	if !found {
		next.Enabled = true
	}
	var v errs.Invalid
	if in.Name != nil {
		next.Name = strings.TrimSpace(*in.Name)
		if utf8.RuneCountInString(next.Name) > 50 {
			v.Add("name", "validation.too_long", "max", 50)
		}
	}
	if in.Webhook != nil {
		next.Webhook = strings.TrimSpace(*in.Webhook)
	}
	if u, err := url.Parse(next.Webhook); next.Webhook == "" || len(next.Webhook) > 500 || err != nil ||
		(u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Query().Get("access_token") == "" {
		v.Add("webhook", "grouprobot.bad_webhook")
	}
	if in.Secret != nil {
		next.Secret = strings.TrimSpace(*in.Secret)
		if next.Secret != "" && (!strings.HasPrefix(next.Secret, "SEC") || len(next.Secret) > 200) {
			v.Add("secret", "grouprobot.bad_secret")
		}
	}
	if in.Enabled != nil {
		next.Enabled = *in.Enabled
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	changes := map[string]audit.Change{}
	if next.Name != old.Name {
		changes["name"] = audit.Change{Old: old.Name, New: next.Name}
	}
	if next.Webhook != old.Webhook {
		changes["webhook"] = audit.Change{Old: maskWebhook(old.Webhook), New: maskWebhook(next.Webhook)}
	}
	if next.Secret != old.Secret {
		changes["secret"] = audit.Change{Old: Mask(old.Secret).Set, New: Mask(next.Secret).Set} // never the value
	}
	if next.Enabled != old.Enabled || !found {
		changes["enabled"] = audit.Change{Old: old.Enabled, New: next.Enabled}
	}
	err = s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM group_robots WHERE department_id = ?", deptID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO group_robots
			(department_id, name, webhook, secret, enabled, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			deptID, next.Name, next.Webhook, next.Secret, next.Enabled, store.Now(), a.UserID); err != nil {
			return err
		}
		action := "update"
		if !found {
			action = "create"
		}
		return audit.Record(ctx, tx, audit.By(a), audit.Entry{Action: action, Entity: "group_robot", EntityID: deptID,
			EntityName: next.Name, Changes: changes})
	})
	if err != nil {
		return nil, fmt.Errorf("grouprobot: save: %w", err)
	}
	return s.one(ctx, deptID)
}

func (s *Service) one(ctx context.Context, deptID int64) (*Robot, error) {
	rs, err := s.load(ctx, " WHERE r.department_id = ?", deptID)
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, ErrNotFound
	}
	return &rs[0], nil
}

// Delete removes a department's robot.
func (s *Service) Delete(ctx context.Context, a *auth.Actor, deptID int64) error {
	if err := a.Require(PermManage); err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM group_robots WHERE department_id = ?", deptID)
		if err != nil {
			return fmt.Errorf("grouprobot: delete: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return audit.Record(ctx, tx, audit.By(a), audit.Entry{Action: "delete", Entity: "group_robot", EntityID: deptID})
	})
}

// Test posts a short message to a department's robot so the admin sees it
// arrive; DingTalk's refusal (bad signature, unknown token) is returned.
func (s *Service) Test(ctx context.Context, a *auth.Actor, deptID int64, text string) error {
	if err := a.Require(PermManage); err != nil {
		return err
	}
	r, err := s.one(ctx, deptID)
	if err != nil {
		return err
	}
	return s.send(ctx, r, dingtalk.WebhookMessage{MsgType: "text", Text: &dingtalk.Text{Content: text}})
}

func (s *Service) send(ctx context.Context, r *Robot, msg dingtalk.WebhookMessage) error {
	if s.sender == nil {
		return errs.New(errs.KindUnavailable, "grouprobot.no_dingtalk")
	}
	var hook string
	if err := s.db.GetContext(ctx, &hook, "SELECT webhook FROM group_robots WHERE department_id = ?", r.DepartmentID); err != nil {
		return fmt.Errorf("grouprobot: webhook: %w", err)
	}
	return s.sender.SendWebhook(ctx, hook, r.secret, msg)
}

// Enabled returns the enabled robots (for the summary jobs).
func (s *Service) Enabled(ctx context.Context) ([]Robot, error) {
	return s.load(ctx, " WHERE r.enabled = 1")
}

// Post sends a markdown message to a robot once per (kind, period): the
// claim is written first, so a rerun of the job does not post again; a
// failed send drops the claim so the next run retries. sent reports
// whether this call posted it.
func (s *Service) Post(ctx context.Context, r Robot, kind, period, title, markdown string) (sent bool, err error) {
	_, err = s.db.ExecContext(ctx, "INSERT INTO group_robot_sends (department_id, kind, period, sent_at) VALUES (?, ?, ?, ?)",
		r.DepartmentID, kind, period, store.Now())
	if store.IsUniqueViolation(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("grouprobot: claim: %w", err)
	}
	msg := dingtalk.WebhookMessage{MsgType: "markdown", Markdown: &dingtalk.Markdown{Title: title, Text: markdown}}
	if err := s.send(ctx, &r, msg); err != nil {
		if _, derr := s.db.ExecContext(context.WithoutCancel(ctx),
			"DELETE FROM group_robot_sends WHERE department_id = ? AND kind = ? AND period = ?", r.DepartmentID, kind, period); derr != nil {
			err = fmt.Errorf("%w (and the claim was not released: %v)", err, derr)
		}
		return false, err
	}
	return true, nil
}

// PruneSends forgets send claims older than before (the cleanup job).
func PruneSends(ctx context.Context, db *store.DB, before time.Time) (int64, error) {
	res, err := db.ExecContext(ctx, "DELETE FROM group_robot_sends WHERE sent_at < ?", before.UTC())
	if err != nil {
		return 0, fmt.Errorf("grouprobot: prune: %w", err)
	}
	return res.RowsAffected()
}
