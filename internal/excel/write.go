package excel

import (
	"context"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/store"
)

// Audit actions of this package.
const (
	actImport = "import"
	actExport = "export"
)

// write inserts the valid rows in batches of BatchRows, one transaction
// each: the customers (queued for the search index), their contacts, one audit
// entry per customer (so each imported customer's timeline starts with its
// creation, marked with the import's job id) and the job's progress.
func (s *Service) write(ctx context.Context, a *auth.Actor, j *Job, rows []*row, l Locale) error {
	valid := make([]*row, 0, len(rows))
	for _, r := range rows {
		if r.ok() {
			valid = append(valid, r)
		}
	}
	if err := progressJob(ctx, s.db, j); err != nil {
		return err
	}
	defer s.index(ctx)
	for len(valid) > 0 {
		n := min(s.limits.BatchRows, len(valid))
		if err := s.writeBatch(ctx, a, j, valid[:n], l); err != nil {
			return err
		}
		valid = valid[n:]
	}
	return nil
}

// index gets the search index of the customers written: by the
// background indexer when there is one, else here and now. Either way the
// customers are searchable as soon as they are committed.
func (s *Service) index(ctx context.Context) {
	if s.indexKick != nil {
		s.indexKick()
		return
	}
	if _, err := s.customers.IndexPending(ctx); err != nil {
		s.log.Error("excel: indexing imported customers failed; they stay queued", "err", err)
	}
}

// writeBatch writes one batch in one transaction. If another person saved
// a customer that collides with one of the batch's since the rows were
// checked, the database refuses the batch; it is then written again row by
// row, and the colliding rows are rejected as duplicates.
func (s *Service) writeBatch(ctx context.Context, a *auth.Actor, j *Job, batch []*row, l Locale) error {
	err := s.insertCommitted(ctx, a, j, batch)
	if err == nil || !store.IsUniqueViolation(err) {
		return err
	}
	for _, r := range batch {
		if err := s.writeOne(ctx, a, j, r, l); err != nil {
			return err
		}
	}
	return nil
}

// writeOne writes a single row in its own transaction, rejecting it when
// it collides with a customer saved since the check.
func (s *Service) writeOne(ctx context.Context, a *auth.Actor, j *Job, r *row, l Locale) error {
	err := s.insertCommitted(ctx, a, j, []*row{r})
	if err == nil || !store.IsUniqueViolation(err) {
		return err
	}
	if err := s.markCRMDuplicates(ctx, a, []*row{r}, l); err != nil {
		return err
	}
	if r.ok() { // the collision is gone again: report it as a duplicate anyway
		r.reject(l.T("excel.dup_in_crm_unknown"))
	}
	j.Processed++
	j.Rejected++
	return progressJob(ctx, s.db, j)
}

// insertCommitted writes rows and the job's progress in one transaction,
// and counts them on the job once it has committed.
func (s *Service) insertCommitted(ctx context.Context, a *auth.Actor, j *Job, rows []*row) error {
	next := *j
	next.Inserted += len(rows)
	next.Processed += len(rows)
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		if err := s.insertRows(ctx, tx, a, j, rows); err != nil {
			return err
		}
		return progressJob(ctx, tx, &next)
	})
	if err == nil {
		j.Inserted, j.Processed, j.UpdatedAt = next.Inserted, next.Processed, next.UpdatedAt
	}
	return err
}

// insertRows writes rows' customers, contacts and audit entries in tx.
func (s *Service) insertRows(ctx context.Context, tx *sqlx.Tx, a *auth.Actor, j *Job, rows []*row) error {
	cs := make([]*customer.Customer, len(rows))
	for i, r := range rows {
		cs[i] = r.customer
	}
	if err := s.customers.InsertBatch(ctx, tx, cs, contactSearch(rows)); err != nil {
		return err
	}
	if err := s.insertContacts(ctx, tx, a, rows); err != nil {
		return err
	}
	entries := make([]audit.Entry, len(cs))
	for i, c := range cs {
		changes := audit.Diff(nil, c.AuditFields())
		changes["import_job"] = audit.Change{New: j.ID}
		entries[i] = audit.Entry{Action: audit.ActCreate, Entity: "customer", EntityID: c.ID, CustomerID: c.ID,
			EntityName: c.Name, Changes: changes}
	}
	return audit.RecordBatch(ctx, tx, audit.Who{ID: a.UserID, Name: a.Name}, entries)
}

// recordSummary finishes a real import: the job's outcome and one audit
// entry for the import as a whole (file, counts, job), in one transaction.
func (s *Service) recordSummary(ctx context.Context, a *auth.Actor, j *Job, file []byte) error {
	return s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		if err := finishJob(ctx, tx, j, file); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Who{ID: a.UserID, Name: a.Name}, audit.Entry{Action: actImport,
			Entity: "customer", EntityName: j.FileName, Changes: map[string]audit.Change{
				"job": {New: j.ID}, "total": {New: j.Total}, "inserted": {New: j.Inserted}, "rejected": {New: j.Rejected},
			}})
	})
}
