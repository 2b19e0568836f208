package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/dingcrm/crm/internal/app"
)

// jobFunc runs one job once and returns a one-line summary.
type jobFunc func(ctx context.Context, a *app.App) (string, error)

// jobs are the scheduled jobs that can also be run once from the CLI
// (`crm jobs run NAME`); the scheduler issue puts them on a schedule.
var jobs = map[string]jobFunc{}

func runJobs(args []string, stdout, stderr io.Writer) error {
	names := make([]string, 0, len(jobs))
	for n := range jobs {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(args) == 0 || args[0] == "list" {
		fmt.Fprintln(stdout, strings.Join(names, "\n"))
		return nil
	}
	if args[0] != "run" || len(args) < 2 {
		return fmt.Errorf("usage: crm jobs list | crm jobs run NAME [--config FILE]  (jobs: %s)", strings.Join(names, ", "))
	}
	job, ok := jobs[args[1]]
	if !ok {
		return fmt.Errorf("unknown job %q (jobs: %s)", args[1], strings.Join(names, ", "))
	}
	cfg, log, _, err := load("jobs", args[2:], stderr, nil)
	if err != nil {
		return err
	}
	ctx := context.Background()
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	summary, err := job(ctx, a)
	if err != nil {
		return fmt.Errorf("job %s: %w", args[1], err)
	}
	fmt.Fprintf(stdout, "%s: %s\n", args[1], summary)
	return nil
}
