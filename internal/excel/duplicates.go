package excel

import (
	"context"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/customer"
)

// markCRMDuplicates rejects the accepted rows that collide with a live
// customer already in the CRM (the public pool included), by the CRM's own
// duplicate keys, looked up for all rows at once. The message names the
// existing customer only when the Actor may see it.
func (s *Service) markCRMDuplicates(ctx context.Context, a *auth.Actor, rows []*row, l Locale) error {
	phones, names := dupKeys(rows)
	if len(phones) == 0 {
		return nil
	}
	found, err := s.customers.DuplicatesAmong(ctx, s.db, phones, names)
	if err != nil {
		return err
	}
	existing := map[string]customer.Duplicate{}
	for _, d := range found {
		existing[duplicateKey(d)] = d
	}
	applyCRMDuplicates(a, rows, existing, l)
	return nil
}

// duplicateKey is the key of rowKeys that an existing customer matched.
func duplicateKey(d customer.Duplicate) string {
	if d.Match == customer.MatchPhone {
		return "p:" + d.PhoneKey
	}
	return "n:" + d.NameKey
}

// applyCRMDuplicates rejects the accepted rows with a key in existing
// (duplicate key → the live customer that has it).
func applyCRMDuplicates(a *auth.Actor, rows []*row, existing map[string]customer.Duplicate, l Locale) {
	for _, r := range rows {
		if !r.ok() {
			continue
		}
		for _, k := range rowKeys(r.customer) {
			if d, ok := existing[k]; ok {
				r.reject(duplicateMessage(a, d, l))
				break
			}
		}
	}
}

// duplicateMessage says which existing customer a row repeats, as far as a
// may see it.
func duplicateMessage(a *auth.Actor, d customer.Duplicate, l Locale) string {
	v := d.View(a)
	switch {
	case v.InPool && v.Visible:
		return l.T("excel.dup_in_pool", "name", v.Name)
	case v.InPool:
		return l.T("excel.dup_in_pool_hidden")
	case v.Visible:
		return l.T("excel.dup_in_crm", "name", v.Name)
	default:
		return l.T("excel.dup_in_crm_hidden", "owner", v.OwnerName)
	}
}

// dupKeys are the duplicate keys (normalized phone, name with company) of
// the rows that passed their own checks, for one DuplicatesAmong lookup.
func dupKeys(rows []*row) (phones, names []string) {
	for _, r := range rows {
		if r.ok() {
			phones = append(phones, customer.PhoneKey(r.customer.Phone))
			names = append(names, customer.NameKey(r.customer.Name, r.customer.Company))
		}
	}
	return phones, names
}
