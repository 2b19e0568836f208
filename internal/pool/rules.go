package pool

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/store"
)

// Rules are the pool's rules (one row of pool_rules, seeded by the
// migration). A count of days of 0 switches that rule off; MaxOwned 0 means
// no cap. When the settings issue arrives it may move them; the service
// reads them through Rules only.
type Rules struct {
	// MaxOwned caps the customers one person may own after a claim, an
	// assignment or a transfer (their own new customers are not capped).
	MaxOwned int `json:"max_owned" db:"max_owned"`
	// ClaimCooldownDays keep a former owner from re-claiming a customer
	// they released (or lost to a reclaim) too soon.
	ClaimCooldownDays int `json:"claim_cooldown_days" db:"claim_cooldown_days"`
	// WarnDays is how long before a reclaim its owner is warned.
	WarnDays int `json:"warn_days" db:"warn_days"`
	// NoFollowDays per customer level; other levels use NoFollowDaysDefault.
	NoFollowDays        map[string]int `json:"no_follow_days" db:"-"`
	RawNoFollowDays     string         `json:"-" db:"no_follow_days"`
	NoFollowDaysDefault int            `json:"no_follow_days_default" db:"no_follow_days_default"`
	// NoDealDays: a customer not in status "deal" this many days after its
	// owner got it returns to the pool.
	NoDealDays     int       `json:"no_deal_days" db:"no_deal_days"`
	ReclaimEnabled bool      `json:"reclaim_enabled" db:"reclaim_enabled"`
	UpdatedBy      int64     `json:"updated_by" db:"updated_by"`
	UpdatedAt      time.Time `json:"updated_at" db:"updated_at"`
	Version        int       `json:"version" db:"version"`
}

// followDays is the no-follow-up limit of a level (0: none).
func (r *Rules) followDays(level string) int {
	if d, ok := r.NoFollowDays[level]; ok {
		return d
	}
	return r.NoFollowDaysDefault
}

// RulesInput replaces the rules; every field is required, and version must
// be the one the editor saw.
type RulesInput struct {
	MaxOwned            *int           `json:"max_owned"`
	ClaimCooldownDays   *int           `json:"claim_cooldown_days"`
	WarnDays            *int           `json:"warn_days"`
	NoFollowDays        map[string]int `json:"no_follow_days"`
	NoFollowDaysDefault *int           `json:"no_follow_days_default"`
	NoDealDays          *int           `json:"no_deal_days"`
	ReclaimEnabled      *bool          `json:"reclaim_enabled"`
	Version             *int           `json:"version"`
}

// Bounds of the rules' numbers.
const (
	maxOwnedLimit = 100000
	maxDays       = 3650
	maxCooldown   = 365
	maxWarnDays   = 30
)

func loadRules(ctx context.Context, x sqlx.QueryerContext) (*Rules, error) {
	var r Rules
	err := sqlx.GetContext(ctx, x, &r, `SELECT max_owned, claim_cooldown_days, warn_days, no_follow_days,
		no_follow_days_default, no_deal_days, reclaim_enabled, updated_by, updated_at, version
		FROM pool_rules ORDER BY id LIMIT 1`)
	if err != nil {
		return nil, fmt.Errorf("pool: load rules: %w", err)
	}
	r.NoFollowDays = map[string]int{}
	if err := json.Unmarshal([]byte(r.RawNoFollowDays), &r.NoFollowDays); err != nil {
		return nil, fmt.Errorf("pool: rules no_follow_days: %w", err)
	}
	return &r, nil
}

// Rules returns the pool's rules (pool.manage).
func (s *Service) Rules(ctx context.Context, a *auth.Actor) (*Rules, error) {
	if err := a.Require(PermManage); err != nil {
		return nil, err
	}
	return loadRules(ctx, s.db)
}

// SetRules replaces the rules (pool.manage), audited.
func (s *Service) SetRules(ctx context.Context, a *auth.Actor, in RulesInput) (*Rules, error) {
	if err := a.Require(PermManage); err != nil {
		return nil, err
	}
	levels, err := s.levels(ctx)
	if err != nil {
		return nil, err
	}
	next, err := validRules(in, levels)
	if err != nil {
		return nil, err
	}
	err = s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		cur, err := loadRules(ctx, tx)
		if err != nil {
			return err
		}
		if cur.Version != *in.Version {
			return ErrRuleStale
		}
		raw, _ := json.Marshal(next.NoFollowDays)
		res, err := tx.ExecContext(ctx, `UPDATE pool_rules SET max_owned = ?, claim_cooldown_days = ?, warn_days = ?,
			no_follow_days = ?, no_follow_days_default = ?, no_deal_days = ?, reclaim_enabled = ?, updated_by = ?,
			updated_at = ?, version = version + 1 WHERE version = ?`,
			next.MaxOwned, next.ClaimCooldownDays, next.WarnDays, string(raw), next.NoFollowDaysDefault,
			next.NoDealDays, next.ReclaimEnabled, a.UserID, store.Now(), cur.Version)
		if err != nil {
			return fmt.Errorf("pool: save rules: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrRuleStale
		}
		return audit.Record(ctx, tx, audit.By(a), audit.Entry{Action: audit.ActUpdate, Entity: "pool_rules",
			Changes: audit.Diff(cur.fields(), next.fields())})
	})
	if err != nil {
		return nil, err
	}
	return loadRules(ctx, s.db)
}

func (r *Rules) fields() map[string]any {
	return map[string]any{"max_owned": r.MaxOwned, "claim_cooldown_days": r.ClaimCooldownDays,
		"warn_days": r.WarnDays, "no_follow_days": r.NoFollowDays, "no_follow_days_default": r.NoFollowDaysDefault,
		"no_deal_days": r.NoDealDays, "reclaim_enabled": r.ReclaimEnabled}
}

// validRules checks every field and reports all problems at once.
func validRules(in RulesInput, known []string) (*Rules, error) {
	var v errs.Invalid
	r := &Rules{NoFollowDays: map[string]int{}}
	num := func(field string, p *int, max int) int {
		switch {
		case p == nil:
			v.Add(field, "validation.required")
		case *p < 0 || *p > max:
			v.Add(field, "pool.range", "min", 0, "max", max)
		default:
			return *p
		}
		return 0
	}
	r.MaxOwned = num("max_owned", in.MaxOwned, maxOwnedLimit)
	r.ClaimCooldownDays = num("claim_cooldown_days", in.ClaimCooldownDays, maxCooldown)
	r.WarnDays = num("warn_days", in.WarnDays, maxWarnDays)
	r.NoFollowDaysDefault = num("no_follow_days_default", in.NoFollowDaysDefault, maxDays)
	r.NoDealDays = num("no_deal_days", in.NoDealDays, maxDays)
	if in.ReclaimEnabled == nil {
		v.Add("reclaim_enabled", "validation.required")
	} else {
		r.ReclaimEnabled = *in.ReclaimEnabled
	}
	if in.Version == nil {
		v.Add("version", "validation.required")
	}
	levels := make([]string, 0, len(in.NoFollowDays))
	for level := range in.NoFollowDays {
		levels = append(levels, level)
	}
	sort.Strings(levels)
	for _, level := range levels {
		d := in.NoFollowDays[level]
		if !inList(known, level) {
			v.Add("no_follow_days", "validation.not_an_option")
		} else if d < 0 || d > maxDays {
			v.Add("no_follow_days", "pool.range", "min", 0, "max", maxDays)
		}
		r.NoFollowDays[level] = d
	}
	if !v.Has("warn_days") && r.WarnDays > 0 {
		for _, d := range r.ruleDays() {
			if d > 0 && r.WarnDays >= d {
				v.Add("warn_days", "pool.warn_days")
			}
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return r, nil
}

// ruleDays lists every reclaim limit in days.
func (r *Rules) ruleDays() []int {
	out := []int{r.NoFollowDaysDefault, r.NoDealDays}
	for _, d := range r.NoFollowDays {
		out = append(out, d)
	}
	return out
}

func inList(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
