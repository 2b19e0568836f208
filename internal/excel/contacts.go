package excel

import (
	"context"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/contact"
	"github.com/dingcrm/crm/internal/errs"
)

// checkContact reads a row's contact columns: none when both are blank,
// else the customer's first (primary) contact, checked by the contact
// service's own rules. Problems are reported under the import's column keys.
func checkContact(a *auth.Actor, name, phone string) (*contact.Contact, error) {
	if strings.TrimSpace(name) == "" && strings.TrimSpace(phone) == "" {
		return nil, nil
	}
	c, err := contact.NewFirst(a, name, phone)
	if err == nil {
		return c, nil
	}
	return nil, renameFields(err, map[string]string{"name": "contact_name", "phones": "contact_phone"})
}

// renameFields moves a validation error's field problems to other names.
func renameFields(err error, names map[string]string) error {
	e, ok := err.(*errs.Error)
	if !ok || len(e.Fields) == 0 {
		return err
	}
	var v errs.Invalid
	for field, f := range e.Fields {
		if to, ok := names[field]; ok {
			field = to
		}
		var args []any
		for k, val := range f.Args {
			args = append(args, k, val)
		}
		v.Add(field, f.Key, args...)
	}
	return v.Err()
}

// contactSearch returns each row's contact's searchable fields (nil for a
// row without a contact), for the customers' search text.
func contactSearch(rows []*row) [][]string {
	out := make([][]string, len(rows))
	for i, r := range rows {
		if r.contact != nil {
			out[i] = r.contact.SearchFields()
		}
	}
	return out
}

// insertContacts writes the rows' contacts, whose customers were inserted
// earlier in tx.
func (s *Service) insertContacts(ctx context.Context, tx *sqlx.Tx, a *auth.Actor, rows []*row) error {
	var cs []*contact.Contact
	for _, r := range rows {
		if r.contact != nil {
			r.contact.CustomerID = r.customer.ID
			cs = append(cs, r.contact)
		}
	}
	return s.contacts.InsertFirst(ctx, tx, audit.Who{ID: a.UserID, Name: a.Name}, cs)
}
