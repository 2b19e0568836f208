package excel

import (
	"context"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/option"
)

// checkChunk is how many records the sheet reader hands the checker at a
// time (and so how many rows one duplicate lookup covers).
const checkChunk = 500

// checker checks the rows of an upload on a second goroutine while the
// sheet is still being read. Reading is excelize's XML decoding, which
// keeps one core busy; validating each row and looking its duplicate keys
// up in the CRM (a round trip per chunk) would otherwise wait for it to
// finish. What depends on the whole file — duplicates within the file,
// which of two equal rows comes first — is still decided after reading
// (checkRows), so the outcome is the same as checking afterwards.
type checker struct {
	s     *Service
	ctx   context.Context
	a     *auth.Actor
	l     Locale
	lists customer.Lists
	opts  optionIndex
	in    chan checkWork
	done  chan struct{}
	// Written by the checker goroutine, read after done is closed.
	rows []*row
	crm  map[string]customer.Duplicate // duplicate key ("p:…", "n:…") → existing customer
	err  error
}

type checkWork struct {
	up   *upload
	recs []record
}

// startChecker loads what checking needs (the company's option lists) and
// starts the checking goroutine; finish must be called once reading ends.
func (s *Service) startChecker(ctx context.Context, a *auth.Actor, l Locale) (*checker, error) {
	var src option.Source
	if s.labels != nil {
		src = s.labels
	}
	lists, err := customer.LoadLists(ctx, src)
	if err != nil {
		return nil, err
	}
	c := &checker{s: s, ctx: ctx, a: a, l: l, lists: lists, opts: s.optionIndex(ctx, lists),
		in: make(chan checkWork, 4), done: make(chan struct{}), crm: map[string]customer.Duplicate{}}
	go c.run()
	return c, nil
}

// add queues records of up (whose layout is known by then) for checking.
func (c *checker) add(up *upload, recs []record) { c.in <- checkWork{up: up, recs: recs} }

func (c *checker) run() {
	defer close(c.done)
	for w := range c.in {
		if c.err != nil {
			continue // drain: the reader must never block
		}
		chunk := make([]*row, len(w.recs))
		for i, rec := range w.recs {
			chunk[i] = c.s.checkRow(c.a, w.up, rec, c.opts, c.lists, c.l)
		}
		c.rows = append(c.rows, chunk...)
		c.err = c.lookup(chunk)
	}
}

// lookup finds the live customers that share a duplicate key with the
// chunk's valid rows; checkRows applies them once duplicates within the
// file are known.
func (c *checker) lookup(chunk []*row) error {
	phones, names := dupKeys(chunk)
	if len(phones) == 0 {
		return nil
	}
	found, err := c.s.customers.DuplicatesAmong(c.ctx, c.s.db, phones, names)
	if err != nil {
		return err
	}
	for _, d := range found {
		c.crm[duplicateKey(d)] = d
	}
	return nil
}

// finish waits for the checker and returns the checked rows, in file
// order, with the CRM's duplicates of their keys.
func (c *checker) finish() ([]*row, map[string]customer.Duplicate, error) {
	close(c.in)
	<-c.done
	return c.rows, c.crm, c.err
}
