package excel

import (
	"context"
	"strings"
	"unicode"

	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/i18n"
	"github.com/dingcrm/crm/internal/option"
)

// column is one column of the customer import. Its header is the message
// "excel.col.<key>" in either language; options names the option list of a
// column whose cells may hold a code or a label.
type column struct {
	key     string
	options []string
}

// customerColumns are the import template's columns, in order.
var customerColumns = []column{
	{key: "name"}, {key: "phone"}, {key: "company"}, {key: "address"},
	{key: "industry", options: customer.Industries}, {key: "source", options: customer.Sources},
	{key: "level", options: customer.Levels}, {key: "status", options: customer.Statuses},
	{key: "tags"}, {key: "note"}, {key: "contact_name"}, {key: "contact_phone"},
}

// requiredColumns must be in every imported file.
var requiredColumns = []string{"name"}

// passiveColumns are headers an import accepts and ignores: the extra
// columns of a customer export (so an export can be imported elsewhere) and
// the two columns the file of rejected rows adds (so it can be fixed and
// uploaded again).
var passiveColumns = []string{"owner", "department", "next_follow_at", "last_follow_at", "created_by",
	"created_at", "updated_at", "source_row", "problems"}

// normalize makes a header or an option label comparable: no spaces, lower
// case, one kind of dash, no required-field star.
func normalize(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case unicode.IsSpace(r), r == '*', r == '＊':
		case r == '–' || r == '—' || r == '－':
			b.WriteRune('-')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// passive marks the layout key of a passive column.
const passive = "-"

// headerIndex maps a normalized header, in any language, to its column key
// (passive + key for a passive column).
func headerIndex(msg i18n.Catalog) map[string]string {
	idx := map[string]string{}
	for _, lang := range i18n.Languages {
		for _, c := range customerColumns {
			idx[normalize(msg.T(lang, "excel.col."+c.key, nil))] = c.key
		}
		for _, key := range passiveColumns {
			idx[normalize(msg.T(lang, "excel.col."+key, nil))] = passive + key
		}
	}
	return idx
}

// layout is what each column of an uploaded sheet holds: a column key,
// passive + key for a column that is read past, or "" under a blank header.
type layout []string

// readHeaders matches the header row against the import's columns. It
// names every unknown header, else every repeated one, else every missing
// required one.
func readHeaders(msg i18n.Catalog, l Locale, cells []string) (layout, error) {
	idx := headerIndex(msg)
	out := make(layout, len(cells))
	seen := map[string]bool{}
	var unknown, dup []string
	for i, cell := range cells {
		text := strings.TrimSpace(cell)
		if text == "" {
			continue
		}
		key, ok := idx[normalize(text)]
		switch {
		case !ok:
			unknown = append(unknown, text)
		case seen[key]:
			dup = append(dup, text)
		default:
			out[i] = key
			seen[key] = true
		}
	}
	var missing []string
	for _, key := range requiredColumns {
		if !seen[key] {
			missing = append(missing, l.T("excel.col."+key))
		}
	}
	switch {
	case len(unknown) > 0:
		return nil, fileError("excel.unknown_headers", "headers", l.List(unknown))
	case len(dup) > 0:
		return nil, fileError("excel.duplicate_headers", "headers", l.List(dup))
	case len(missing) > 0:
		return nil, fileError("excel.missing_headers", "headers", l.List(missing))
	}
	return out, nil
}

// optionIndex maps, per option column, a normalized code or label in any
// language to the code.
type optionIndex map[string]map[string]string

func newOptionIndex(msg i18n.Catalog) optionIndex {
	idx := optionIndex{}
	for _, c := range customerColumns {
		if c.options == nil {
			continue
		}
		m := map[string]string{}
		for _, code := range c.options {
			m[normalize(code)] = code
			for _, lang := range i18n.Languages {
				m[normalize(msg.T(lang, "option."+c.key+"."+code, nil))] = code
			}
		}
		idx[c.key] = m
	}
	return idx
}

// optionIndex is newOptionIndex with the company's editable lists: every
// code of lists (retired ones too: validation then says whether the row may
// use it) and its labels in both languages.
func (s *Service) optionIndex(ctx context.Context, lists customer.Lists) optionIndex {
	idx := newOptionIndex(s.msg)
	if s.labels == nil {
		return idx
	}
	for key, x := range map[string]struct {
		list string
		set  option.Set
	}{"industry": {option.Industries, lists.Industries}, "source": {option.Sources, lists.Sources}, "level": {option.Levels, lists.Levels}} {
		m := map[string]string{}
		for _, code := range x.set.All {
			m[normalize(code)] = code
			for _, lang := range i18n.Languages {
				m[normalize(s.labels.Label(ctx, x.list, code, lang))] = code
			}
		}
		idx[key] = m
	}
	return idx
}

// code returns the option code a cell names, or the cell itself when it
// names none (the customer validation then reports "not an option").
func (o optionIndex) code(kind, cell string) string {
	cell = strings.TrimSpace(cell)
	if code, ok := o[kind][normalize(cell)]; ok {
		return code
	}
	return cell
}

// fileError is a 400 about the uploaded file as a whole: its message is the
// answer's message and the problem of the form field "file".
func fileError(key string, args ...any) error {
	var v errs.Invalid
	v.Add("file", key, args...)
	e := v.Err().(*errs.Error)
	e.Key, e.Args = key, e.Fields["file"].Args
	return e
}
