package excel

import (
	"context"
	"sync"

	"golang.org/x/sync/errgroup"

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
// each: the customers (queued for the search index), their contacts, one
// audit entry per customer (so each imported customer's timeline starts
// with its creation, marked with the import's job id) and the job's
// progress. On MySQL two batches are written at once, on two connections
// (the server works on both; SQLite has one writer anyway). Batches may
// then commit out of file order; each is still all or nothing, and the
// job's counts are added in each batch's own transaction.
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
	var batches [][]*row
	for len(valid) > 0 {
		n := min(s.limits.BatchRows, len(valid))
		batches = append(batches, valid[:n])
		valid = valid[n:]
	}
	writers := 1
	if s.db.Dialect == store.MySQL {
		writers = writersMySQL
	}
	w := &jobWriter{s: s, a: a, j: j, l: l}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(writers)
	for _, b := range batches {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error { return w.writeBatch(gctx, b) })
	}
	return g.Wait()
}

// writersMySQL is how many batches an import writes at once on MySQL.
const writersMySQL = 2

// jobWriter writes the batches of one job; mu guards the job's counts,
// which concurrent batches add to once they have committed.
type jobWriter struct {
	s  *Service
	a  *auth.Actor
	j  *Job
	l  Locale
	mu sync.Mutex
}

func (w *jobWriter) count(inserted, rejected int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.j.Inserted += inserted
	w.j.Rejected += rejected
	w.j.Processed += inserted + rejected
	w.j.UpdatedAt = store.Now()
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
func (w *jobWriter) writeBatch(ctx context.Context, batch []*row) error {
	err := w.insertCommitted(ctx, batch)
	if err == nil || !store.IsUniqueViolation(err) {
		return err
	}
	for _, r := range batch {
		if err := w.writeOne(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

// writeOne writes a single row in its own transaction, rejecting it when
// it collides with a customer saved since the check.
func (w *jobWriter) writeOne(ctx context.Context, r *row) error {
	err := w.insertCommitted(ctx, []*row{r})
	if err == nil || !store.IsUniqueViolation(err) {
		return err
	}
	if err := w.s.markCRMDuplicates(ctx, w.a, []*row{r}, w.l); err != nil {
		return err
	}
	if r.ok() { // the collision is gone again: report it as a duplicate anyway
		r.reject(w.l.T("excel.dup_in_crm_unknown"))
	}
	if err := addProgress(ctx, w.s.db, w.j.ID, 0, 1); err != nil {
		return err
	}
	w.count(0, 1)
	return nil
}

// insertCommitted writes rows and adds them to the job's progress in one
// transaction, and counts them on the job once it has committed. A
// deadlock between two concurrent batches (InnoDB rolls one back) is
// retried.
func (w *jobWriter) insertCommitted(ctx context.Context, rows []*row) error {
	var err error
	for try := 0; try < 3; try++ {
		err = w.s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
			if err := w.s.insertRows(ctx, tx, w.a, w.j, rows); err != nil {
				return err
			}
			return addProgress(ctx, tx, w.j.ID, len(rows), 0)
		})
		if !store.IsDeadlock(err) {
			break
		}
	}
	if err == nil {
		w.count(len(rows), 0)
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
