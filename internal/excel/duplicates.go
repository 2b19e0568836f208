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
	var phones, names []string
	for _, r := range rows {
		if r.ok() {
			phones = append(phones, customer.PhoneKey(r.customer.Phone))
			names = append(names, customer.NameKey(r.customer.Name, r.customer.Company))
		}
	}
	if len(phones) == 0 {
		return nil
	}
	found, err := s.customers.DuplicatesAmong(ctx, s.db, phones, names)
	if err != nil {
		return err
	}
	existing := map[string]customer.Duplicate{}
	for _, d := range found {
		if d.Match == customer.MatchPhone {
			existing["p:"+d.PhoneKey] = d
		} else {
			existing["n:"+d.NameKey] = d
		}
	}
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
	return nil
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
