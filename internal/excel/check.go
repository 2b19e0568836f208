package excel

import (
	"errors"
	"strings"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/contact"
	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/errs"
)

// row is one data row after checking: the customer it describes (nil when
// the row is rejected) and what is wrong with it, localized.
type row struct {
	rec      record
	customer *customer.Customer
	contact  *contact.Contact
	problems []string
}

func (r *row) ok() bool { return len(r.problems) == 0 }

// checkRows finishes the check of an upload whose rows the checker has
// validated while the sheet was read (and whose keys it has looked up in
// the CRM): it marks the duplicates within the file, then those of the
// CRM among the rows still accepted. Nothing is written. Problems are in
// the Locale's language.
func checkRows(a *auth.Actor, rows []*row, crm map[string]customer.Duplicate, l Locale) {
	markFileDuplicates(rows, l)
	applyCRMDuplicates(a, rows, crm, l)
}

// checkRow turns one record into a customer (and contact), or problems.
func (s *Service) checkRow(a *auth.Actor, up *upload, rec record, opts optionIndex, lists customer.Lists, l Locale) *row {
	cell := func(key string) *string {
		v := unquote(up.cell(rec, key))
		return &v
	}
	option := func(kind string) *string {
		v := opts.code(kind, *cell(kind))
		return &v
	}
	in := customer.Input{Name: cell("name"), Phone: cell("phone"), Company: cell("company"),
		Address: cell("address"), Note: cell("note"), Industry: option("industry"), Source: option("source"),
		Level: option("level"), Status: option("status")}
	if *in.Status == "" {
		in.Status = nil // the service's default status
	}
	in.SetTags(splitTags(*cell("tags")))
	r := &row{rec: rec}
	c, err := customer.ValidateWith(a, in, lists)
	if err != nil {
		r.problems = append(r.problems, fieldProblems(err, l)...)
	}
	ct, cerr := checkContact(a, *cell("contact_name"), *cell("contact_phone"))
	if cerr != nil {
		r.problems = append(r.problems, fieldProblems(cerr, l)...)
	}
	if r.ok() {
		r.customer, r.contact = c, ct
	}
	return r
}

// fieldProblems renders a validation error's fields as "联系电话：请输入…",
// in the column order of the template; other errors as their message.
func fieldProblems(err error, l Locale) []string {
	var e *errs.Error
	if !errors.As(err, &e) || len(e.Fields) == 0 {
		return []string{l.T("excel.failed")}
	}
	var out []string
	for _, c := range customerColumns {
		f, ok := e.Fields[c.key]
		if !ok {
			continue
		}
		out = append(out, l.T("excel.field_problem", "column", l.T("excel.col."+c.key),
			"message", l.msg.T(l.Lang, f.Key, f.Args)))
	}
	return out
}

// splitTags reads a tags cell: tags separated by commas (either width), 、 or
// semicolons.
func splitTags(cell string) []string {
	parts := strings.FieldsFunc(cell, func(r rune) bool {
		return r == ',' || r == '，' || r == '、' || r == ';' || r == '；' || r == '\n'
	})
	out := []string{}
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// unquote undoes an export's formula neutralization: a cell that begins
// with a single quote followed by =, +, - or @ was written by neutralize.
func unquote(cell string) string {
	if len(cell) > 1 && cell[0] == '\'' && strings.ContainsRune(formulaStarts, rune(cell[1])) {
		return cell[1:]
	}
	return cell
}

// markFileDuplicates rejects a row that repeats an earlier accepted row of
// the same file; the first one stays.
func markFileDuplicates(rows []*row, l Locale) {
	first := map[string]int{} // key → line of the first accepted row with it
	for _, r := range rows {
		if !r.ok() {
			continue
		}
		keys := rowKeys(r.customer)
		if line := firstLine(first, keys); line > 0 {
			r.reject(l.T("excel.dup_in_file", "row", line))
			continue
		}
		for _, k := range keys {
			first[k] = r.rec.line
		}
	}
}

// rowKeys are a customer's duplicate keys, tagged by kind so a phone never
// equals a name.
func rowKeys(c *customer.Customer) []string {
	var out []string
	if p := customer.PhoneKey(c.Phone); p != "" {
		out = append(out, "p:"+p)
	}
	if n := customer.NameKey(c.Name, c.Company); n != "" {
		out = append(out, "n:"+n)
	}
	return out
}

func firstLine(first map[string]int, keys []string) int {
	for _, k := range keys {
		if line, ok := first[k]; ok {
			return line
		}
	}
	return 0
}

func (r *row) reject(problem string) {
	r.problems = append(r.problems, problem)
	r.customer, r.contact = nil, nil
}
