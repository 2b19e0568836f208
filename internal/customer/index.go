package customer

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/store"
)

// The search index (customer_grams) is keyed (gram, owner_id, customer_id):
// a search limited to one owner (a salesperson's own customers, the public
// pool, an owner filter) reads only that owner's index rows. A trigger on
// customers (migration 00018) keeps the rows' owner_id, updated_at and live
// in step with the customer row in the same transaction, whatever writes it.
//
// Customers written in bulk (InsertBatch, the Excel import) are not indexed
// at once: their IDs go to customer_index_queue, search tests those
// customers' search_text directly (they are added to the candidates), and
// IndexPending writes their index rows afterwards. The results of a search
// are the same either way; only its cost differs while the queue is long.

// gramOwner says whether a search may read only one owner's index rows,
// and whose: the rows it can return all have that owner. The owner
// condition stays in the WHERE clause as well, so an index row with a
// stale owner could hide a customer but never show one out of scope. The
// recycle bin is not narrowed (a deleted customer's rows keep the owner it
// had).
func gramOwner(a *auth.Actor, f Filter, deleted bool) (int64, bool) {
	switch {
	case deleted:
		return 0, false
	case f.Pool:
		return 0, true
	case f.OwnerID > 0:
		return f.OwnerID, true
	case a == nil:
		return 0, false
	case a.Scope == auth.ScopeSelf:
		return a.UserID, true
	case (a.Scope == auth.ScopeDept || a.Scope == auth.ScopeDeptTree) && len(a.ScopeDeptIDs) == 0:
		return a.UserID, true
	}
	return 0, false
}

// candidates is the SQL of the customer IDs a search must test: those
// holding every one of grams in the index (of one owner when byOwner),
// and every customer still waiting on the index queue.
func candidates(grams []int64, owner int64, byOwner bool) (string, []any) {
	var b strings.Builder
	b.WriteString("SELECT g0.customer_id FROM customer_grams g0")
	for i, g := range grams[1:] {
		a := "g" + strconv.Itoa(i+1)
		fmt.Fprintf(&b, " JOIN customer_grams %s ON %s.gram = %d AND %s.owner_id = g0.owner_id AND %s.customer_id = g0.customer_id",
			a, a, g, a, a)
	}
	fmt.Fprintf(&b, " WHERE g0.gram = %d", grams[0])
	var args []any
	if byOwner {
		b.WriteString(" AND g0.owner_id = ?")
		args = append(args, owner)
	}
	b.WriteString(" UNION SELECT customer_id FROM customer_index_queue")
	return b.String(), args
}

// enqueue puts customers on the index queue.
func enqueue(ctx context.Context, tx sqlx.ExecerContext, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	buf := make([]byte, 0, 16*len(ids)+64)
	buf = append(buf, "INSERT INTO customer_index_queue (customer_id) VALUES "...)
	for i, id := range ids {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, '(')
		buf = strconv.AppendInt(buf, id, 10)
		buf = append(buf, ')')
	}
	if _, err := tx.ExecContext(ctx, string(buf)); err != nil {
		return fmt.Errorf("customer: enqueue for index: %w", err)
	}
	return nil
}

// indexBatch is how many queued customers one IndexPending transaction
// indexes.
const indexBatch = 1000

// IndexPending writes the index rows of queued customers, indexBatch per
// transaction, until the queue is empty or ctx ends, and reports how many
// it indexed. Each batch locks its customers' rows, rewrites their index
// rows from the stored search_text and owner, and takes them off the queue,
// so a concurrent edit (which rebuilds the index itself) cannot be undone
// by a stale read.
func (s *Store) IndexPending(ctx context.Context) (int, error) {
	done := 0
	for ctx.Err() == nil {
		n, err := s.indexOneBatch(ctx)
		done += n
		if err != nil || n == 0 {
			return done, err
		}
	}
	return done, ctx.Err()
}

func (s *Store) indexOneBatch(ctx context.Context) (int, error) {
	n := 0
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		var ids []int64
		if err := tx.SelectContext(ctx, &ids, "SELECT customer_id FROM customer_index_queue ORDER BY customer_id LIMIT ?", indexBatch); err != nil {
			return fmt.Errorf("customer: read index queue: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		lock := " FOR UPDATE"
		if s.db.Dialect == store.SQLite {
			lock = "" // one writer at a time: the transaction already excludes edits
		}
		var rows []struct {
			ID        int64      `db:"id"`
			OwnerID   int64      `db:"owner_id"`
			Text      string     `db:"search_text"`
			UpdatedAt time.Time  `db:"updated_at"`
			DeletedAt *time.Time `db:"deleted_at"`
		}
		err := tx.SelectContext(ctx, &rows, "SELECT id, owner_id, search_text, updated_at, deleted_at FROM customers WHERE id IN ("+
			store.Placeholders(len(ids))+") ORDER BY id"+lock, store.Int64Args(ids)...)
		if err != nil {
			return fmt.Errorf("customer: read for index: %w", err)
		}
		in := "(" + store.Placeholders(len(ids)) + ")"
		if _, err := tx.ExecContext(ctx, "DELETE FROM customer_grams WHERE customer_id IN "+in, store.Int64Args(ids)...); err != nil {
			return fmt.Errorf("customer: clear index: %w", err)
		}
		cs := make([]IndexedCustomer, len(rows))
		for i, r := range rows {
			cs[i] = IndexedCustomer{ID: r.ID, OwnerID: r.OwnerID, UpdatedAt: r.UpdatedAt, Live: r.DeletedAt == nil, Text: r.Text}
		}
		if err := InsertIndexRows(ctx, tx, cs); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM customer_index_queue WHERE customer_id IN "+in, store.Int64Args(ids)...); err != nil {
			return fmt.Errorf("customer: dequeue: %w", err)
		}
		n = len(ids)
		return nil
	})
	return n, err
}

// QueueLength is how many customers wait for their index rows.
func (s *Store) QueueLength(ctx context.Context) (int, error) {
	var n int
	if err := s.db.GetContext(ctx, &n, "SELECT COUNT(*) FROM customer_index_queue"); err != nil {
		return 0, fmt.Errorf("customer: index queue length: %w", err)
	}
	return n, nil
}

// Indexer runs IndexPending in the background: whenever Kick is called,
// and once at start for anything a previous process left queued.
type Indexer struct {
	store *Store
	log   *slog.Logger
	kick  chan struct{}
	done  chan struct{}
	stop  context.CancelFunc
}

// StartIndexer starts the background indexer; Close stops it.
func StartIndexer(st *Store, log *slog.Logger) *Indexer {
	ctx, cancel := context.WithCancel(context.Background())
	ix := &Indexer{store: st, log: log, kick: make(chan struct{}, 1), done: make(chan struct{}), stop: cancel}
	ix.Kick()
	go ix.run(ctx)
	return ix
}

// Kick asks the indexer to drain the queue; it never blocks.
func (ix *Indexer) Kick() {
	select {
	case ix.kick <- struct{}{}:
	default:
	}
}

func (ix *Indexer) run(ctx context.Context) {
	defer close(ix.done)
	for {
		select {
		case <-ctx.Done():
			return
		case <-ix.kick:
		}
		if _, err := ix.store.IndexPending(ctx); err != nil && ctx.Err() == nil {
			ix.log.Error("customer: indexing queued customers failed", "err", err)
			select { // try again later; the queue keeps them searchable
			case <-ctx.Done():
				return
			case <-time.After(time.Minute):
				ix.Kick()
			}
		}
	}
}

// Close stops the indexer and waits for it; a batch in progress is rolled
// back and stays queued.
func (ix *Indexer) Close() {
	ix.stop()
	<-ix.done
}

// CheckIndex compares the whole search index with what the customers'
// stored rows give, and reports the first difference: a customer off the
// queue must have exactly its grams, each with its owner, fields, update
// time and recycle-bin state. It reads every row (tests and maintenance,
// not requests).
func (s *Store) CheckIndex(ctx context.Context) error {
	var cs []struct {
		ID        int64      `db:"id"`
		Owner     int64      `db:"owner_id"`
		Text      string     `db:"search_text"`
		UpdatedAt time.Time  `db:"updated_at"`
		DeletedAt *time.Time `db:"deleted_at"`
		Queued    bool       `db:"queued"`
	}
	err := s.db.SelectContext(ctx, &cs, `SELECT c.id, c.owner_id, c.search_text, c.updated_at, c.deleted_at,
		CASE WHEN q.customer_id IS NULL THEN 0 ELSE 1 END AS queued
		FROM customers c LEFT JOIN customer_index_queue q ON q.customer_id = c.id`)
	if err != nil {
		return fmt.Errorf("customer: check index: %w", err)
	}
	type key struct{ gram, owner, id int64 }
	type posting struct {
		text string
		at   time.Time
		live bool
	}
	var rows []struct {
		Gram      int64     `db:"gram"`
		Owner     int64     `db:"owner_id"`
		Customer  int64     `db:"customer_id"`
		Text      string    `db:"field_text"`
		UpdatedAt time.Time `db:"updated_at"`
		Live      bool      `db:"live"`
	}
	if err := s.db.SelectContext(ctx, &rows, "SELECT gram, owner_id, customer_id, field_text, updated_at, live FROM customer_grams"); err != nil {
		return fmt.Errorf("customer: check index: %w", err)
	}
	have := map[key]posting{}
	for _, r := range rows {
		have[key{r.Gram, r.Owner, r.Customer}] = posting{r.Text, r.UpdatedAt, r.Live}
	}
	queued := map[int64]bool{}
	for _, c := range cs {
		if c.Queued {
			queued[c.ID] = true
			continue
		}
		for _, g := range GramTexts(c.Text) {
			k := key{g.Gram, c.Owner, c.ID}
			p, ok := have[k]
			switch {
			case !ok:
				return fmt.Errorf("customer %d (owner %d): index row for gram %d missing or with another owner", c.ID, c.Owner, g.Gram)
			case p.text != g.Text:
				return fmt.Errorf("customer %d: index row for gram %d holds %q, want %q", c.ID, g.Gram, p.text, g.Text)
			case !p.at.Equal(c.UpdatedAt) || p.live != (c.DeletedAt == nil):
				return fmt.Errorf("customer %d: index row for gram %d has updated_at %v live %v, the customer %v deleted %v",
					c.ID, g.Gram, p.at, p.live, c.UpdatedAt, c.DeletedAt)
			}
			delete(have, k)
		}
	}
	for k := range have {
		if !queued[k.id] {
			return fmt.Errorf("customer %d: stray index row gram %d owner %d", k.id, k.gram, k.owner)
		}
	}
	return nil
}
