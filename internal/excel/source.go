package excel

import (
	"context"
	"strconv"
	"time"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/paging"
)

// listSource is a Source over a paged list: each resource's adapter gives
// its columns, a function reading one page of the list (with the list's
// own filter bound in) and one turning an item into a row.
type listSource[T any] struct {
	entity  string
	perm    auth.Perm
	columns []string // message keys of the headers
	page    func(ctx context.Context, a *auth.Actor, page, size int) (items []T, total int, err error)
	row     func(item *T, l Locale) []string
	filter  string
}

func (s *listSource[T]) Entity() string  { return s.entity }
func (s *listSource[T]) Perm() auth.Perm { return s.perm }
func (s *listSource[T]) Filter() string  { return s.filter }

func (s *listSource[T]) Headers(l Locale) []string {
	out := make([]string, len(s.columns))
	for i, key := range s.columns {
		out[i] = l.T(key)
	}
	return out
}

// Rows reads the list page by page, at the largest page size a list
// allows, until it has as many rows as the list's total.
func (s *listSource[T]) Rows(ctx context.Context, a *auth.Actor, l Locale, emit func([]string) error) error {
	seen := 0
	for n := 1; ; n++ {
		items, total, err := s.page(ctx, a, n, paging.MaxSize)
		if err != nil {
			return err
		}
		for i := range items {
			if err := emit(s.row(&items[i], l)); err != nil {
				return err
			}
		}
		seen += len(items)
		if len(items) == 0 || seen >= total {
			return nil
		}
	}
}

// cols turns column names into header message keys: excel.col.<name> for
// the shared columns, excel.<name> for a resource's own ("sale.date").
func cols(names ...string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "excel.col." + n
		for _, r := range n {
			if r == '.' {
				out[i] = "excel." + n
				break
			}
		}
	}
	return out
}

// id writes a filter's id for the audit log ("" for none).
func id(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

// stamp writes a filter's time for the audit log ("" for none).
func stamp(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// yesNo is a boolean cell.
func yesNo(b bool, l Locale) string {
	if b {
		return l.T("excel.yes")
	}
	return l.T("excel.no")
}
