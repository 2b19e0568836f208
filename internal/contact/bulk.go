package contact

import (
	"context"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/store"
)

// This file serves bulk writers (the Excel import), which create customers
// together with their first contact inside their own transactions.

// NewFirst checks the first contact of a customer being created in bulk,
// by the rules of Create: a name and a phone (which may be blank). It
// returns the contact, primary and not yet written, or every field problem
// (under "name" and "phones").
func NewFirst(a *auth.Actor, name, phone string) (*Contact, error) {
	now := store.Now()
	c := &Contact{Phones: []string{}, IsPrimary: true, CreatedBy: a.UserID, CreatedAt: now, UpdatedAt: now}
	phones := []string{phone}
	var v errs.Invalid
	apply(&v, c, Input{Name: &name, Phones: &phones})
	if err := v.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

// SearchFields are what the customer's keyword search matches for c (its
// customer's search text must carry them: customer.Store.InsertBatch takes
// them with the customer).
func (c *Contact) SearchFields() []string { return searchFields([]Contact{*c}) }

// InsertFirst writes contacts from NewFirst whose customers were created
// earlier in the same transaction (so each is its customer's only contact),
// with an audit entry each on the customer's timeline. Set CustomerID first.
func (s *Store) InsertFirst(ctx context.Context, tx *sqlx.Tx, who audit.Who, cs []*Contact) error {
	for _, c := range cs {
		if err := s.Insert(ctx, tx, c); err != nil {
			return err
		}
		err := audit.Record(ctx, tx, who, audit.Entry{Action: audit.ActCreate, Entity: "contact", EntityID: c.ID,
			EntityName: c.Name, CustomerID: c.CustomerID, Changes: audit.Diff(nil, c.auditFields())})
		if err != nil {
			return err
		}
	}
	return nil
}
