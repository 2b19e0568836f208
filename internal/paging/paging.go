// Package paging checks the page and page_size of every list the same way.
package paging

import "github.com/dingcrm/crm/internal/errs"

// Limits of a page.
const (
	DefaultSize = 20
	MaxSize     = 100
	MaxPage     = 100000
)

// Check fills in defaults for zero values and records out-of-range ones.
func Check(v *errs.Invalid, page, size *int) {
	if *page == 0 {
		*page = 1
	}
	if *size == 0 {
		*size = DefaultSize
	}
	if *page < 1 || *page > MaxPage {
		v.Add("page", "validation.page")
	}
	if *size < 1 || *size > MaxSize {
		v.Add("page_size", "validation.page_size", "max", MaxSize)
	}
}
