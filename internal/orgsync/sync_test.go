package orgsync_test

import (
	"errors"
	"testing"

	"github.com/dingcrm/crm/dingtalk/dingtalktest"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/orgsync"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
	"github.com/dingcrm/crm/internal/user"
)

// TestFullSyncIntoEmptyDatabase: the first sync makes the database equal
// the DingTalk organization (tree, people in several departments,
// managers → 销售经理, main and sub-admins → 管理员, everyone else → 销售);
// a second sync of the unchanged organization writes nothing at all.
func TestFullSyncIntoEmptyDatabase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, testOrg())
		sum := f.sync()
		sameOrg(t, expected(f.fake.Org()), inDB(t, db))
		if sum.PeopleAdded != 12 || sum.DepartmentsAdded != 5 || sum.People != 12 || sum.Departments != 5 {
			t.Errorf("first sync summary: %+v", sum)
		}
		// 5 departments (listsub) + 5 member pages + listadmin + the root's department/get.
		if sum.Calls != 12 {
			t.Errorf("calls = %d, want 12", sum.Calls)
		}
		if n := f.count("SELECT COUNT(*) FROM audit_log WHERE entity IN ('user', 'department')"); n != 17 {
			t.Errorf("audit entries of the first sync = %d, want one per person and department (17)", n)
		}
		before := f.writes()
		again := f.sync()
		if again.Changed() {
			t.Errorf("second sync changed something: %+v", again)
		}
		if after := f.writes(); after != before {
			t.Errorf("second sync wrote:\n before %s\n after  %s", before, after)
		}
		if n := f.count("SELECT COUNT(*) FROM org_syncs WHERE status = 'done'"); n != 2 {
			t.Errorf("history has %d finished syncs, want 2", n)
		}
	})
}

// TestSyncAppliesChangesAsOneDiff: each kind of change in DingTalk shows in
// the database after one sync, with the right count in the summary and
// nothing else changed.
func TestSyncAppliesChangesAsOneDiff(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(f *dingtalktest.Server) error
		check func(s *orgsync.Summary) bool
	}{
		{"rename a department", func(f *dingtalktest.Server) error {
			return f.UpdateDepartment(dingtalktest.Department{ID: 3, Name: "销售二部（华南）", ParentID: 1, Order: 2, Managers: []string{"sim_mgr2"}})
		}, func(s *orgsync.Summary) bool { return s.DepartmentsChanged == 1 }},
		{"move a department", func(f *dingtalktest.Server) error {
			return f.UpdateDepartment(dingtalktest.Department{ID: 4, Name: "华东组", ParentID: 3, Order: 3})
		}, func(s *orgsync.Summary) bool { return s.DepartmentsChanged == 1 }},
		{"move a person", func(f *dingtalktest.Server) error { return f.MoveUser("sim_s1", 3) },
			func(s *orgsync.Summary) bool { return s.PeopleMoved == 1 }},
		{"new person in two departments", func(f *dingtalktest.Server) error {
			return f.AddUser(dingtalktest.User{UserID: "new1", Name: "新同事", Mobile: "13900000001", DeptIDs: []int64{4, 5}})
		}, func(s *orgsync.Summary) bool { return s.PeopleAdded == 1 }},
		{"profile change", func(f *dingtalktest.Server) error {
			u, _ := f.User("sim_s2")
			u.Title, u.Mobile = "高级销售", "13900000002"
			return f.UpdateUser(u)
		}, func(s *orgsync.Summary) bool { return s.PeopleChanged == 1 }},
		{"leaver", func(f *dingtalktest.Server) error { return f.RemoveUser("sim_s5") },
			func(s *orgsync.Summary) bool { return s.PeopleDeactivated == 1 }},
		{"new manager", func(f *dingtalktest.Server) error { return f.SetDeptManagers(4, "sim_s3") },
			func(s *orgsync.Summary) bool {
				return s.RolesChanged == 1 && s.PeopleChanged == 1 && s.PeopleMoved == 0
			}},
		{"new admin", func(f *dingtalktest.Server) error { return f.SetAdmin("sim_s4", 2) },
			func(s *orgsync.Summary) bool { return s.RolesChanged == 1 && s.PeopleChanged == 1 }},
		{"new and removed department", func(f *dingtalktest.Server) error {
			if err := f.AddDepartment(dingtalktest.Department{ID: 9, Name: "渠道部", ParentID: 1, Order: 9}); err != nil {
				return err
			}
			if err := f.MoveUser("sim_mk1", 9); err != nil {
				return err
			}
			if err := f.MoveUser("new1", 4); err != nil {
				return err
			}
			return f.RemoveDepartment(5)
		}, func(s *orgsync.Summary) bool {
			return s.DepartmentsAdded == 1 && s.DepartmentsRemoved == 1 && s.PeopleMoved == 2
		}},
	}
	// The cases run one after the other on one organization: each edit
	// builds on the ones before, as changes do.
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, testOrg())
		f.sync()
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				if err := tc.edit(f.fake); err != nil {
					t.Fatal(err)
				}
				sum := f.sync()
				if !tc.check(sum) {
					t.Errorf("summary: %+v", sum)
				}
				sameOrg(t, expected(f.fake.Org()), activeOnly(inDB(t, f.db)))
				before := f.writes()
				if again := f.sync(); again.Changed() || f.writes() != before {
					t.Errorf("a sync after the change changed more: %+v", again)
				}
			})
		}
	})
}

// activeOnly drops people who left (the database keeps them, inactive).
func activeOnly(v orgView) orgView {
	for id, p := range v.People {
		if !p.Active {
			delete(v.People, id)
		}
	}
	return v
}

// TestManualRoleSurvivesSync: a role an admin set in the CRM is kept (and
// counted) by later syncs; AutoRoles hands the person back to the mapping.
func TestManualRoleSurvivesSync(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, testOrg())
		f.sync()
		users := user.NewService(db, user.NewStore(db), f.sessions)
		admin := f.actor("sim_admin")
		var managerRole int64
		if err := db.Get(&managerRole, "SELECT id FROM roles WHERE code = 'manager'"); err != nil {
			t.Fatal(err)
		}
		s1 := f.userID("sim_s1")
		if _, err := users.SetRoles(f.ctx, admin, s1, []int64{managerRole}); err != nil {
			t.Fatal(err)
		}
		if err := f.fake.MoveUser("sim_s1", 3); err != nil { // a change the sync applies
			t.Fatal(err)
		}
		sum := f.sync()
		if sum.ManualRolesKept != 1 || sum.RolesChanged != 0 || sum.PeopleMoved != 1 {
			t.Errorf("summary: %+v", sum)
		}
		if got := inDB(t, db).People["sim_s1"]; got.Role != "manager" || got.Depts != "3" {
			t.Fatalf("sim_s1 after sync: %+v, want the hand-set manager role kept in department 3", got)
		}
		if n := f.count("SELECT roles_manual FROM users WHERE id = ?", s1); n != 1 {
			t.Fatal("the hand-set role is not marked manual")
		}
		if err := f.svc.AutoRoles(f.ctx, admin, s1); err != nil {
			t.Fatal(err)
		}
		if got := inDB(t, db).People["sim_s1"]; got.Role != "sales" {
			t.Fatalf("after AutoRoles: %+v, want the mapped sales role", got)
		}
		if err := f.svc.AutoRoles(f.ctx, f.actor("sim_s2"), s1); !errors.Is(err, errs.ErrForbidden) {
			t.Fatalf("a salesperson resetting roles: %v", err)
		}
		if again := f.sync(); again.Changed() || again.ManualRolesKept != 0 {
			t.Errorf("sync after AutoRoles: %+v", again)
		}
	})
}
