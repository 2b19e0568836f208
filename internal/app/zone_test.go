package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/dingcrm/crm/internal/apptest"
	"github.com/dingcrm/crm/internal/auth"
)

// TestSchedulerUsesCompanyZone: the time zone set in 系统设置 is the one the
// scheduled jobs' next run times are computed in, from the next start of
// the process on (an instance that is already running keeps the zone it
// started with, as docs/OPERATIONS.md says).
func TestSchedulerUsesCompanyZone(t *testing.T) {
	ctx := context.Background()
	srv := apptest.Start(t)
	nextTeamSummary := func(s *apptest.Server) time.Time {
		t.Helper()
		views, err := s.App.Jobs.List(ctx, auth.System())
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range views {
			if v.Name == "team-summary" && v.NextRunAt != nil {
				return *v.NextRunAt
			}
		}
		t.Fatal("team-summary has no next run")
		return time.Time{}
	}
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	if at := nextTeamSummary(srv).In(shanghai); at.Hour() != 18 || at.Minute() != 0 {
		t.Fatalf("team-summary next at %v, want 18:00 in the default zone Asia/Shanghai", at)
	}
	admin := srv.Login(t, "sim_admin")
	if st := admin.Do("PUT", "/api/v1/settings", map[string]any{"timezone": "America/New_York"}, nil); st != 200 {
		t.Fatalf("set the time zone: %d", st)
	}
	ny, _ := time.LoadLocation("America/New_York")
	restarted := srv.Another(t)
	if at := nextTeamSummary(restarted).In(ny); at.Hour() != 18 || at.Minute() != 0 {
		t.Errorf("after a restart team-summary next at %v, want 18:00 in America/New_York", at)
	}
	if at := nextTeamSummary(srv).In(shanghai); at.Hour() != 18 {
		t.Errorf("the running instance changed zone without a restart: %v", at)
	}
}
