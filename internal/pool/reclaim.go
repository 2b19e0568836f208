package pool

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/store"
)

// The reclaim rules (自动回收). A customer returns to the pool when its owner
// has not followed it up for the days of its level, or has not made it a
// deal within no_deal_days; its owner is warned warn_days before.
//
// The clocks: "not followed up" counts from the later of its last follow-up
// (customers.last_follow_at; its creation when there is none) and the day
// its owner got it (owner_since; its creation when never moved), so a
// customer just claimed is not due at once. "No deal" counts no_deal_days
// from the later of the same start and the customer's last won deal
// (customers.last_won_at: a won opportunity or a recorded sale), so a
// customer must keep producing deals for its owner to keep it. Handing a
// customer to someone else (claim, assign, transfer, or an edit of its
// owner) restarts owner_since.
//
// Every reclaim is preceded by a warning at least warn_days earlier: a
// customer found already overdue (rules just tightened, the job not run for
// a while) is warned now and reclaimed warn_days later. A warning belongs to
// one cycle, identified by owner and due date (pool_warnings' unique key),
// so each cycle warns once however often the job runs; a follow-up moves the
// due date and starts a new cycle.

// reclaimBatch is how many customers one transaction handles.
const reclaimBatch = 200

// Summary is what one reclaim run did.
type Summary struct {
	// Checked counts the customers near or past a limit that were examined.
	Checked int `json:"checked"`
	// Warned are this run's new warnings, for the notifications to send.
	Warned []Warning `json:"warned"`
	// Reclaimed are the customers returned to the pool.
	Reclaimed []int64 `json:"reclaimed"`
}

// Warning tells an owner that a customer returns to the pool at ReclaimAt.
type Warning struct {
	CustomerID   int64     `json:"customer_id"`
	CustomerName string    `json:"customer_name"`
	OwnerID      int64     `json:"owner_id"`
	DepartmentID int64     `json:"department_id"`
	Rule         string    `json:"rule"`
	DueAt        time.Time `json:"due_at"`
	ReclaimAt    time.Time `json:"reclaim_at"`
}

// candidate is an owned customer near a limit.
type candidate struct {
	ID           int64      `db:"id"`
	Name         string     `db:"name"`
	OwnerID      int64      `db:"owner_id"`
	OwnerName    string     `db:"owner_name"`
	DepartmentID int64      `db:"department_id"`
	Level        string     `db:"level"`
	Status       string     `db:"status"`
	LastFollowAt *time.Time `db:"last_follow_at"`
	LastWonAt    *time.Time `db:"last_won_at"`
	OwnerSince   *time.Time `db:"owner_since"`
	CreatedAt    time.Time  `db:"created_at"`
}

// due is when c reaches its first limit, and which; ok is false when no
// rule applies to it.
func (c *candidate) due(r *Rules) (at time.Time, rule string, ok bool) {
	since := c.CreatedAt
	if c.OwnerSince != nil && c.OwnerSince.After(since) {
		since = *c.OwnerSince
	}
	if d := r.followDays(c.Level); d > 0 {
		basis := since
		if c.LastFollowAt != nil && c.LastFollowAt.After(basis) {
			basis = *c.LastFollowAt
		}
		at, rule, ok = basis.Add(time.Duration(d)*day), CauseNoFollow, true
	}
	if r.NoDealDays > 0 {
		basis := since
		if c.LastWonAt != nil && c.LastWonAt.After(basis) {
			basis = *c.LastWonAt
		}
		if deal := basis.Add(time.Duration(r.NoDealDays) * day); !ok || deal.Before(at) {
			at, rule, ok = deal, CauseNoDeal, true
		}
	}
	return at, rule, ok
}

// Reclaim warns owners of customers nearing a limit and returns the overdue
// ones to the pool, as of now. It is idempotent (a second run at the same
// now changes nothing), works in batches of its own transactions, and
// audits each reclaim as the system.
func (s *Service) Reclaim(ctx context.Context, now time.Time) (Summary, error) {
	sum := Summary{Warned: []Warning{}, Reclaimed: []int64{}}
	rules, err := loadRules(ctx, s.db)
	if err != nil || !rules.ReclaimEnabled {
		return sum, err
	}
	now = now.UTC().Truncate(time.Millisecond)
	where, args := candidateFilter(rules, now)
	if where == "" {
		return sum, nil
	}
	for after := int64(0); ; {
		var batch []candidate
		err := s.db.SelectContext(ctx, &batch, `SELECT c.id, c.name, c.owner_id, COALESCE(u.name, '') AS owner_name,
			c.department_id, c.level, c.status, c.last_follow_at, c.last_won_at, c.owner_since, c.created_at
			FROM customers c LEFT JOIN users u ON u.id = c.owner_id
			WHERE c.deleted_at IS NULL AND c.owner_id > 0 AND c.id > ? AND (`+where+`)
			ORDER BY c.id LIMIT ?`, append(append([]any{after}, args...), reclaimBatch)...)
		if err != nil {
			return sum, fmt.Errorf("pool: reclaim candidates: %w", err)
		}
		if len(batch) == 0 {
			return sum, nil
		}
		after = batch[len(batch)-1].ID
		sum.Checked += len(batch)
		if err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error { return s.reclaimBatch(ctx, tx, rules, now, batch, &sum) }); err != nil {
			return sum, err
		}
	}
}

// candidateFilter selects the owned customers within warn_days of a limit
// (a superset: due() decides exactly). Thresholds are computed here, so the
// SQL is plain comparisons that both engines run alike.
func candidateFilter(r *Rules, now time.Time) (string, []any) {
	var conds []string
	var args []any
	threshold := func(days int) time.Time { return now.Add(time.Duration(r.WarnDays-days) * day) }
	follow := "COALESCE(c.last_follow_at, c.created_at) <= ? AND COALESCE(c.owner_since, c.created_at) <= ?"
	var listed []any
	for level, d := range r.NoFollowDays {
		listed = append(listed, level)
		if d > 0 {
			conds = append(conds, "(c.level = ? AND "+follow+")")
			args = append(args, level, threshold(d), threshold(d))
		}
	}
	if d := r.NoFollowDaysDefault; d > 0 {
		other := "1 = 1"
		if len(listed) > 0 {
			other = "c.level NOT IN (" + store.Placeholders(len(listed)) + ")"
		}
		conds = append(conds, "("+other+" AND "+follow+")")
		args = append(append(args, listed...), threshold(d), threshold(d))
	}
	if d := r.NoDealDays; d > 0 {
		conds = append(conds, "(COALESCE(c.last_won_at, c.created_at) <= ? AND COALESCE(c.owner_since, c.created_at) <= ?)")
		args = append(args, threshold(d), threshold(d))
	}
	return strings.Join(conds, " OR "), args
}

// warned is a stored warning.
type warned struct {
	CustomerID int64     `db:"customer_id"`
	OwnerID    int64     `db:"owner_id"`
	DueAt      time.Time `db:"due_at"`
	WarnedAt   time.Time `db:"warned_at"`
}

// reclaimBatch warns and reclaims within one transaction.
func (s *Service) reclaimBatch(ctx context.Context, tx *sqlx.Tx, r *Rules, now time.Time, batch []candidate, sum *Summary) error {
	ids := make([]int64, len(batch))
	for i, c := range batch {
		ids[i] = c.ID
	}
	var prior []warned
	if err := tx.SelectContext(ctx, &prior, `SELECT customer_id, owner_id, due_at, warned_at FROM pool_warnings
		WHERE customer_id IN (`+store.Placeholders(len(ids))+`)`, store.Int64Args(ids)...); err != nil {
		return fmt.Errorf("pool: read warnings: %w", err)
	}
	grace := time.Duration(r.WarnDays) * day
	for i := range batch {
		c := &batch[i]
		due, rule, ok := c.due(r)
		if !ok || now.Before(due.Add(-grace)) {
			continue
		}
		warnedAt, err := s.warn(ctx, tx, c, due, rule, now, grace, prior, sum)
		if err != nil {
			return err
		}
		if now.Before(due) || now.Before(warnedAt.Add(grace)) {
			continue
		}
		if err := s.reclaimOne(ctx, tx, r, c, due, rule, now, sum); err != nil {
			return err
		}
	}
	return nil
}

// warn returns when c's owner was warned of this cycle, warning them now
// if they were not yet.
func (s *Service) warn(ctx context.Context, tx *sqlx.Tx, c *candidate, due time.Time, rule string, now time.Time,
	grace time.Duration, prior []warned, sum *Summary) (time.Time, error) {
	for _, w := range prior {
		if w.CustomerID == c.ID && w.OwnerID == c.OwnerID && w.DueAt.Equal(due) {
			return w.WarnedAt, nil
		}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO pool_warnings (customer_id, owner_id, department_id, rule, due_at, warned_at)
		VALUES (?, ?, ?, ?, ?, ?)`, c.ID, c.OwnerID, c.DepartmentID, rule, due, now)
	if store.IsUniqueViolation(err) {
		return now, nil // another instance's run warned a moment ago
	}
	if err != nil {
		return now, fmt.Errorf("pool: warn %d: %w", c.ID, err)
	}
	reclaimAt := due // never sooner than grace after the warning
	if earliest := now.Add(grace); reclaimAt.Before(earliest) {
		reclaimAt = earliest
	}
	sum.Warned = append(sum.Warned, Warning{CustomerID: c.ID, CustomerName: c.Name, OwnerID: c.OwnerID,
		DepartmentID: c.DepartmentID, Rule: rule, DueAt: due, ReclaimAt: reclaimAt})
	return now, nil
}

// reclaimOne returns c to the pool, as the system, unless a follow-up, a
// deal or a new owner arrived since the batch was read.
func (s *Service) reclaimOne(ctx context.Context, tx *sqlx.Tx, r *Rules, c *candidate, due time.Time, rule string, now time.Time, sum *Summary) error {
	lock := ""
	if s.db.Dialect == store.MySQL {
		lock = " FOR UPDATE"
	}
	var cur candidate
	err := tx.GetContext(ctx, &cur, `SELECT id, owner_id, level, status, last_follow_at, last_won_at, owner_since, created_at
		FROM customers WHERE id = ? AND deleted_at IS NULL`+lock, c.ID)
	if store.IsNoRows(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("pool: reread %d: %w", c.ID, err)
	}
	if d, _, ok := cur.due(r); cur.OwnerID != c.OwnerID || !ok || !d.Equal(due) {
		return nil
	}
	ok, err := toPool(ctx, tx, c.ID, c.OwnerID, rule, "", now)
	if err != nil || !ok {
		return err // !ok: its owner changed meanwhile; the next run looks again
	}
	changes := ownerChange(c.OwnerID, c.OwnerName, c.DepartmentID, 0, "", 0)
	changes["pool_cause"] = audit.Change{New: rule}
	if err := audit.Record(ctx, tx, audit.By(auth.System()), audit.Entry{Action: ActReclaim, Entity: "customer",
		EntityID: c.ID, CustomerID: c.ID, EntityName: c.Name, Changes: changes}); err != nil {
		return err
	}
	sum.Reclaimed = append(sum.Reclaimed, c.ID)
	return nil
}
