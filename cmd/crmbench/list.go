package main

import (
	"context"
	"fmt"
	"io"

	"github.com/dingcrm/crm/internal/customer"
)

// listCase is one customer list request of the web app.
type listCase struct {
	label string
	f     customer.Filter
}

// listCases are the list screen's usual requests: the default view, and a
// filtered, sorted view on its first page and a deeper one.
var listCases = []listCase{
	{"no filter, sort -updated_at, page 1", customer.Filter{}},
	{"status=negotiating + level=a, sort -updated_at, page 1", customer.Filter{Status: "negotiating", Level: "a", Sort: "-updated_at", Page: 1}},
	{"status=negotiating + level=a, sort -updated_at, page 10", customer.Filter{Status: "negotiating", Level: "a", Sort: "-updated_at", Page: 10}},
	{"status=intent + level=b, sort created_at, page 1", customer.Filter{Status: "intent", Level: "b", Sort: "created_at", Page: 1}},
}

// listBench times the list endpoint's service call (count + page) for
// each case and scope. There is no baseline to beat here; the figures say
// what a list costs at this size.
func listBench(ctx context.Context, svc *customer.Service, scopes []scope, o searchOptions, w, progress io.Writer) error {
	fmt.Fprintln(w, "Customer list through the service (COUNT + one page of 20)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| list | scope | rows | p50 | p95 |")
	fmt.Fprintln(w, "|---|---|--:|--:|--:|")
	for _, s := range scopes {
		for _, c := range listCases {
			fmt.Fprintf(progress, "\rlisting %-5s %-56s", s.label, c.label)
			var times samples
			var total int
			for i := range o.warmup + o.runs {
				f := c.f
				f.PageSize = pageSize
				d, err := timed(ctx, func(ctx context.Context) error {
					var err error
					_, total, err = svc.List(ctx, s.actor, f)
					return err
				})
				if err != nil {
					return fmt.Errorf("list %s as %s: %w", c.label, s.label, err)
				}
				if i >= o.warmup {
					times = append(times, d)
				}
			}
			fmt.Fprintf(w, "| %s | %s | %d | %s | %s |\n", c.label, s.label, total, ms(times.p50()), ms(times.p95()))
		}
	}
	fmt.Fprintf(progress, "\r%70s\r", "")
	fmt.Fprintln(w)
	return nil
}
