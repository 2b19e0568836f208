package customer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/store"
)

// Merging duplicates (合并客户): customer B (from) is merged into customer A
// (into). Every record of B moves to A, A's empty fields take B's values, and
// B goes to the recycle bin marked merged_into = A, all in one transaction.

// MergeTables are the tables whose rows belong to a customer through their
// customer_id column; a merge moves their rows. A table that does not exist
// in this database (its module not yet installed) is skipped. The operation
// log is not among them: its entries stay on the customer they describe.
var MergeTables = []string{"contacts", "followups", "sales", "opportunities"}

// ActMerge is the audit action of a merge, on both customers.
const ActMerge = "merge"

// MergeInput is the body of a merge.
type MergeInput struct {
	FromID *int64 `json:"from_id"`
}

// MergeResult is A after the merge, the rows moved per table and the fields
// of A that were filled from B.
type MergeResult struct {
	Customer *Customer        `json:"customer"`
	Moved    map[string]int64 `json:"moved"`
	Filled   []string         `json:"filled"`
}

// mergeTables caches which of MergeTables exist: the schema changes only by
// migrations, which run before the service starts.
type mergeTables struct {
	mu     sync.Mutex
	tables []string
}

func (m *mergeTables) get(ctx context.Context, db *store.DB) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.tables != nil {
		return m.tables, nil
	}
	q := "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN (" + store.Placeholders(len(MergeTables)) + ")"
	if db.Dialect == store.MySQL {
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name IN (" +
			store.Placeholders(len(MergeTables)) + ")"
	}
	var found []string
	if err := db.SelectContext(ctx, &found, q, stringArgs(MergeTables)...); err != nil {
		return nil, fmt.Errorf("customer: find record tables: %w", err)
	}
	m.tables = []string{}
	for _, t := range MergeTables { // in MergeTables' order
		for _, f := range found {
			if strings.EqualFold(f, t) {
				m.tables = append(m.tables, t)
			}
		}
	}
	return m.tables, nil
}

func stringArgs(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// Merge merges customer fromID into customer intoID. Both must be live and
// within the Actor's scope; it needs customer.manage.
func (s *Service) Merge(ctx context.Context, a *auth.Actor, intoID int64, in MergeInput) (*MergeResult, error) {
	if err := a.Require(auth.CustomerManage); err != nil {
		return nil, err
	}
	switch {
	case in.FromID == nil || *in.FromID < 1:
		return nil, errs.InvalidField("from_id", "validation.required")
	case *in.FromID == intoID:
		return nil, errs.InvalidField("from_id", "merge.same")
	}
	tables, err := s.merge.get(ctx, s.db)
	if err != nil {
		return nil, err
	}
	res := &MergeResult{Moved: map[string]int64{}}
	err = s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		into, err := s.store.Get(ctx, tx, a, intoID, false)
		if err != nil {
			return err
		}
		from, err := s.store.Get(ctx, tx, a, *in.FromID, false)
		if errors.Is(err, ErrNotFound) {
			return errs.InvalidField("from_id", "customer.not_found")
		}
		if err != nil {
			return err
		}
		if err := s.retire(ctx, tx, a, from, into); err != nil {
			return err
		}
		if err := s.moveRecords(ctx, tx, tables, into.ID, from.ID, res.Moved); err != nil {
			return err
		}
		return s.absorb(ctx, tx, a, into, from, res)
	})
	if err != nil {
		return nil, err
	}
	if res.Customer, err = s.get(ctx, a, intoID); err != nil {
		return nil, err
	}
	return res, nil
}

// retire puts from in the recycle bin marked as merged into into (which
// also frees its duplicate keys for into to take).
func (s *Service) retire(ctx context.Context, tx *sqlx.Tx, a *auth.Actor, from, into *Customer) error {
	now := store.Now()
	if err := s.store.SetDeleted(ctx, tx, from.ID, a.UserID, now); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "UPDATE customers SET merged_into = ? WHERE id = ?", into.ID, from.ID); err != nil {
		return fmt.Errorf("customer: mark merged %d: %w", from.ID, err)
	}
	return audit.Record(ctx, tx, audit.By(a), audit.Entry{Action: ActMerge, Entity: "customer", EntityID: from.ID,
		CustomerID: from.ID, EntityName: from.Name, Changes: map[string]audit.Change{
			"merged_into": {Old: nil, New: map[string]any{"id": into.ID, "name": into.Name}}}})
}

// moveRecords re-points every record of from to into, table by table,
// counting the rows moved.
func (s *Service) moveRecords(ctx context.Context, tx *sqlx.Tx, tables []string, into, from int64, moved map[string]int64) error {
	for _, t := range tables {
		if prep := mergePrep[t]; prep != nil {
			if err := prep(ctx, tx, into, from); err != nil {
				return err
			}
		}
		// t comes from MergeTables, never from input.
		r, err := tx.ExecContext(ctx, "UPDATE "+t+" SET customer_id = ? WHERE customer_id = ?", into, from)
		if err != nil {
			return fmt.Errorf("customer: merge %s: %w", t, err)
		}
		if n, _ := r.RowsAffected(); n > 0 {
			moved[t] = n
		}
	}
	return nil
}

// mergePrep holds what a table needs before its rows can move.
var mergePrep = map[string]func(ctx context.Context, tx *sqlx.Tx, into, from int64) error{
	"contacts": demoteSecondPrimary,
}

// demoteSecondPrimary keeps a customer's one primary contact: when into has
// a live primary contact, from's stops being primary.
func demoteSecondPrimary(ctx context.Context, tx *sqlx.Tx, into, from int64) error {
	var n int
	if err := tx.GetContext(ctx, &n, "SELECT COUNT(*) FROM contacts WHERE customer_id = ? AND is_primary = 1 AND deleted_at IS NULL", into); err != nil {
		return fmt.Errorf("customer: merge primary contact: %w", err)
	}
	if n == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, "UPDATE contacts SET is_primary = 0, version = version + 1 WHERE customer_id = ? AND is_primary = 1", from); err != nil {
		return fmt.Errorf("customer: merge demote contact: %w", err)
	}
	return nil
}

// absorb fills into's empty fields from from, takes the later last
// follow-up, joins both customers' contact search fields and records the
// merge on into's timeline.
func (s *Service) absorb(ctx context.Context, tx *sqlx.Tx, a *auth.Actor, into, from *Customer, res *MergeResult) error {
	before := into.auditFields()
	res.Filled = fill(into, from)
	changes := audit.Diff(before, into.auditFields())
	into.UpdatedAt = store.Now()
	ok, err := s.store.Update(ctx, tx, into, false)
	if err != nil {
		return err
	}
	if !ok {
		return ErrStale
	}
	if err := s.rekey(ctx, tx, a, into, changes); err != nil {
		return err
	}
	if from.LastFollowAt != nil && (into.LastFollowAt == nil || from.LastFollowAt.After(*into.LastFollowAt)) {
		if _, err := tx.ExecContext(ctx, "UPDATE customers SET last_follow_at = ? WHERE id = ?", *from.LastFollowAt, into.ID); err != nil {
			return fmt.Errorf("customer: merge last follow-up: %w", err)
		}
	}
	if err := s.joinSearch(ctx, tx, into.ID, from.ID); err != nil {
		return err
	}
	changes["merged_from"] = audit.Change{New: map[string]any{"id": from.ID, "name": from.Name}}
	if len(res.Moved) > 0 {
		changes["moved"] = audit.Change{New: res.Moved}
	}
	return audit.Record(ctx, tx, audit.By(a), audit.Entry{Action: ActMerge, Entity: "customer", EntityID: into.ID,
		CustomerID: into.ID, EntityName: into.Name, Changes: changes})
}

// fill copies from's values into into's empty fields and returns their
// names: phone, company, address, industry, source, level, note and the
// next follow-up; tags become the union (into's first, within the limit).
// The name, status and owner stay into's.
func fill(into, from *Customer) []string {
	var filled []string
	for _, f := range []struct {
		name     string
		dst, src *string
	}{
		{"phone", &into.Phone, &from.Phone}, {"company", &into.Company, &from.Company},
		{"address", &into.Address, &from.Address}, {"industry", &into.Industry, &from.Industry},
		{"source", &into.Source, &from.Source}, {"level", &into.Level, &from.Level},
		{"note", &into.Note, &from.Note},
	} {
		if *f.dst == "" && *f.src != "" {
			*f.dst = *f.src
			filled = append(filled, f.name)
		}
	}
	if into.NextFollowAt == nil && from.NextFollowAt != nil {
		into.NextFollowAt = from.NextFollowAt
		filled = append(filled, "next_follow_at")
	}
	tags := append([]string{}, into.Tags...)
	for _, t := range from.Tags {
		if len(tags) < maxTags && !inList(tags, t) {
			tags = append(tags, t)
		}
	}
	if len(tags) > len(into.Tags) {
		into.Tags = tags
		filled = append(filled, "tags")
	}
	return filled
}

// joinSearch makes into findable by from's contacts too (they are into's
// now), then rebuilds into's search text from its saved fields.
func (s *Service) joinSearch(ctx context.Context, tx *sqlx.Tx, into, from int64) error {
	var rows []string
	err := tx.SelectContext(ctx, &rows, "SELECT search_extra FROM customers WHERE id IN (?, ?) ORDER BY id = ? DESC", into, from, into)
	if err != nil {
		return fmt.Errorf("customer: merge search fields: %w", err)
	}
	var extra []string
	for _, r := range rows {
		if r != "" {
			extra = append(extra, strings.Split(r, fieldSep)...)
		}
	}
	return s.store.Reindex(ctx, tx, into, extra)
}
