package dingtalktest_test

import (
	"context"
	"reflect"
	"slices"
	"testing"

	"github.com/dingcrm/crm/dingtalk"
	"github.com/dingcrm/crm/dingtalk/dingtalktest"
	"github.com/dingcrm/crm/internal/seed"
)

func TestGenerateOrg(t *testing.T) {
	o := dingtalktest.GenerateOrg(dingtalktest.GenOptions{People: 3000, Departments: 150, Seed: 7})
	if len(o.Users) != 3000 || len(o.Departments) != 150 || len(o.Admins) != 3 || o.Admins[0].Level != 1 {
		t.Fatalf("%d users, %d departments, admins %v", len(o.Users), len(o.Departments), o.Admins)
	}
	if !reflect.DeepEqual(o, dingtalktest.GenerateOrg(dingtalktest.GenOptions{People: 3000, Departments: 150, Seed: 7})) {
		t.Error("same seed, different organization")
	}
	multi := 0
	members := map[int64][]string{}
	for _, u := range o.Users {
		if len(u.DeptIDs) > 1 {
			multi++
		}
		for _, d := range u.DeptIDs {
			members[d] = append(members[d], u.UserID)
		}
	}
	if multi < 60 || multi > 300 {
		t.Errorf("%d people in several departments, want about 5%%", multi)
	}
	for _, d := range o.Departments {
		for _, m := range d.Managers {
			if !slices.Contains(members[d.ID], m) {
				t.Errorf("department %d: manager %s is not a member", d.ID, m)
			}
		}
		if len(members[d.ID]) > 0 && len(d.Managers) == 0 {
			t.Errorf("department %d has people but no manager", d.ID)
		}
	}

	srv := dingtalktest.New(dingtalktest.Options{Org: o, QPS: -1})
	defer srv.Close()
	opts := srv.ClientOptions()
	opts.QPS = 5000
	c, err := dingtalk.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	all, err := c.ListAllDepartments(context.Background())
	if err != nil || len(all) != 149 {
		t.Fatalf("walked %d departments, %v", len(all), err)
	}
	seen := map[string]bool{}
	for _, d := range append(all, dingtalk.Department{DeptID: 1}) {
		us, err := c.ListDepartmentUsers(context.Background(), d.DeptID)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range us {
			seen[u.UserID] = true
		}
	}
	if len(seen) != 3000 {
		t.Errorf("sync saw %d distinct people, want 3000", len(seen))
	}
}

// SimulatedOrg must stay the same organization as internal/seed's.
func TestSimulatedOrgMatchesSeed(t *testing.T) {
	o := dingtalktest.SimulatedOrg()
	if len(o.Departments) != len(seed.SimulatedDepartments) {
		t.Fatalf("%d departments, seed has %d", len(o.Departments), len(seed.SimulatedDepartments))
	}
	for i, sd := range seed.SimulatedDepartments {
		d := o.Departments[i]
		if d.ID != sd.DingTalkID || d.Name != sd.Name || d.ParentID != sd.Parent {
			t.Errorf("department %d: %+v vs seed %+v", i, d, sd)
		}
	}
	if len(o.Users) != len(seed.SimulatedPeople) {
		t.Fatalf("%d people, seed has %d", len(o.Users), len(seed.SimulatedPeople))
	}
	byID := map[int64]dingtalktest.Department{}
	for _, d := range o.Departments {
		byID[d.ID] = d
	}
	admins := map[string]int{}
	for _, a := range o.Admins {
		admins[a.UserID] = a.Level
	}
	for i, sp := range seed.SimulatedPeople {
		u := o.Users[i]
		if u.UserID != sp.UserID || u.Name != sp.Name || u.Mobile != sp.Mobile || u.Title != sp.Title || !slices.Equal(u.DeptIDs, sp.Depts) {
			t.Errorf("person %d: %+v vs seed %+v", i, u, sp)
		}
		if manages := slices.Contains(byID[sp.Depts[0]].Managers, sp.UserID); manages != sp.Manager {
			t.Errorf("%s manages %d: %v, seed says %v", sp.UserID, sp.Depts[0], manages, sp.Manager)
		}
		if (admins[sp.UserID] > 0) != (sp.Role == "admin") {
			t.Errorf("%s admin level %d, seed role %s", sp.UserID, admins[sp.UserID], sp.Role)
		}
	}
}
