package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/dingcrm/crm/internal/app"
	"github.com/dingcrm/crm/internal/orgsync"
)

// syncOrg is `crm sync-org`: one full organization sync from DingTalk now,
// with a progress bar on stderr and the summary on stdout. It takes the
// same lock as the web's "sync now", so it refuses while one runs.
func syncOrg(args []string, stdout, stderr io.Writer) error {
	var force bool
	cfg, log, _, err := load("sync-org", args, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&force, "force", false, "apply even when more than half of the people would be deactivated")
	})
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
	defer a.OrgSync.Close()
	bar := progressbar.NewOptions(-1, progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription("connecting"),
		progressbar.OptionShowCount(), progressbar.OptionSetWidth(30), progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish())
	start := time.Now()
	sy, err := a.OrgSync.Run(ctx, orgsync.RunOptions{Origin: orgsync.OriginCLI, Force: force, Progress: func(p orgsync.Progress) {
		if p.Total > 0 {
			bar.ChangeMax(p.Total)
			_ = bar.Set(p.Done)
		}
		bar.Describe(describe(p))
	}})
	_ = bar.Finish()
	if sy != nil && sy.Summary != nil {
		printSummary(stdout, sy, time.Since(start))
	}
	if err != nil {
		return fmt.Errorf("sync-org: %w", err)
	}
	return nil
}

func describe(p orgsync.Progress) string {
	switch p.Phase {
	case orgsync.PhaseDepartments:
		return fmt.Sprintf("reading departments and people (%d people)", p.People)
	case orgsync.PhaseApply:
		return fmt.Sprintf("writing the changes (%d people)", p.People)
	case orgsync.PhaseHandoff:
		return "handing over leavers' customers"
	case orgsync.PhaseDone:
		return "done"
	}
	return "connecting"
}

func printSummary(w io.Writer, sy *orgsync.Sync, took time.Duration) {
	s := sy.Summary
	fmt.Fprintf(w, "sync %d %s in %s: %d people in %d departments, %d DingTalk calls\n",
		sy.ID, sy.Status, took.Round(100*time.Millisecond), s.People, s.Departments, s.Calls)
	if !s.Changed() {
		fmt.Fprintln(w, "  nothing changed")
		return
	}
	fmt.Fprintf(w, "  departments: %d added, %d changed, %d removed\n", s.DepartmentsAdded, s.DepartmentsChanged, s.DepartmentsRemoved)
	fmt.Fprintf(w, "  people:      %d added, %d changed, %d moved, %d deactivated, %d back\n",
		s.PeopleAdded, s.PeopleChanged, s.PeopleMoved, s.PeopleDeactivated, s.PeopleReactivated)
	fmt.Fprintf(w, "  roles:       %d changed (%d set by hand kept)\n", s.RolesChanged, s.ManualRolesKept)
	fmt.Fprintf(w, "  handed over: %d customers, %d opportunities\n", s.CustomersHandedOver, s.OpportunitiesHandedOver)
}
