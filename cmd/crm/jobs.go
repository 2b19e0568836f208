package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/dingcrm/crm/internal/app"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/jobs"
)

// runJobs is `crm jobs list` (the scheduler's jobs with schedule, state
// and last run) and `crm jobs run NAME` (one run now, recorded in the job
// history like a scheduled one, refused while the job runs elsewhere).
func runJobs(args []string, stdout, stderr io.Writer) error {
	action := "list"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		action, args = args[0], args[1:]
	}
	var name string
	if action == "run" {
		if len(args) == 0 || strings.HasPrefix(args[0], "-") {
			return fmt.Errorf("usage: crm jobs list | crm jobs run NAME [--config FILE]")
		}
		name, args = args[0], args[1:]
	} else if action != "list" {
		return fmt.Errorf("usage: crm jobs list | crm jobs run NAME [--config FILE]")
	}
	cfg, log, _, err := load("jobs", args, stderr, nil)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	if action == "list" {
		return listJobs(ctx, a, stdout)
	}
	run, err := a.Jobs.RunNow(ctx, name, jobs.OriginCLI)
	if err != nil {
		if run == nil {
			return fmt.Errorf("job %s: %w (jobs: %s)", name, err, strings.Join(a.Jobs.Names(), ", "))
		}
		return fmt.Errorf("job %s: %w", name, err)
	}
	fmt.Fprintf(stdout, "%s: %s\n", name, run.Summary)
	return nil
}

func listJobs(ctx context.Context, a *app.App, stdout io.Writer) error {
	views, err := a.Jobs.List(ctx, auth.System())
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tSCHEDULE\tENABLED\tLAST RUN")
	for _, v := range views {
		last := "-"
		if v.LastRun != nil {
			last = v.LastRun.StartedAt.UTC().Format("2006-01-02 15:04Z") + " " + v.LastRun.Outcome
		}
		fmt.Fprintf(w, "%s\t%s\t%v\t%s\n", v.Name, v.Schedule, v.Enabled, last)
	}
	return w.Flush()
}
