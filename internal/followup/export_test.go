package followup

// ListFilters exposes the list's filter conditions to the reference query
// of TestListEqualsPlainScope.
var ListFilters = listFilters
