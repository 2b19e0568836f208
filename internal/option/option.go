// Package option is the seam between the company's editable option lists
// (internal/settings) and the modules that validate against them (customer,
// followup, deal): a list is a set of stable codes, some of them retired.
// A retired (inactive) code stays valid on the records that already carry
// it but is no longer offered for new values.
package option

import (
	"context"
	"slices"

	"github.com/dingcrm/crm/internal/errs"
)

// The editable lists, by their API names.
const (
	Sources         = "sources"
	Industries      = "industries"
	Levels          = "levels"
	Tags            = "tags"
	FollowupMethods = "followup_methods"
	LostReasons     = "lost_reasons"
)

// Lists are the editable lists in display order.
var Lists = []string{Sources, Industries, Levels, Tags, FollowupMethods, LostReasons}

// Set is one list as validation sees it.
type Set struct {
	// Active codes are offered for new values.
	Active []string
	// All codes, active or retired, are understood on existing records.
	All []string
}

// Fixed is a set whose every code is active.
func Fixed(codes []string) Set { return Set{Active: codes, All: codes} }

// Offered reports whether code may be chosen now.
func (s Set) Offered(code string) bool { return slices.Contains(s.Active, code) }

// Known reports whether code is in the list at all (filters accept retired
// codes so old records can still be found).
func (s Set) Known(code string) bool { return slices.Contains(s.All, code) }

// Check validates value for field: empty is fine (callers check required),
// the value a record already has (old) stays valid even when retired, and
// anything else must be offered. It returns value.
func (s Set) Check(v *errs.Invalid, field, value, old string) string {
	if value != "" && value != old && !s.Offered(value) {
		v.Add(field, "validation.not_an_option")
	}
	return value
}

// Source gives the current set of a list.
type Source interface {
	OptionSet(ctx context.Context, list string) (Set, error)
}

// Static is a Source of fixed lists (the built-in defaults), for services
// used without company settings (tests, tools).
type Static map[string][]string

// OptionSet implements Source.
func (s Static) OptionSet(_ context.Context, list string) (Set, error) { return Fixed(s[list]), nil }
