package dingtalk_test

import (
	"context"
	"testing"

	"github.com/dingcrm/crm/dingtalk"
	"github.com/dingcrm/crm/dingtalk/dingtalktest"
)

// BenchmarkOrgSync walks a generated organization of 5,000 people in 250
// departments the way the org sync will: the department tree breadth-first,
// then every department's members page by page, de-duplicated by userid.
// The fake's and the client's rate limits are lifted to measure the code.
func BenchmarkOrgSync(b *testing.B) {
	srv := dingtalktest.New(dingtalktest.Options{QPS: -1,
		Org: dingtalktest.GenerateOrg(dingtalktest.GenOptions{People: 5000, Departments: 250, Seed: 1})})
	defer srv.Close()
	o := srv.ClientOptions()
	o.QPS, o.Burst = 1e6, 1000
	c, err := dingtalk.New(o)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		depts, err := c.ListAllDepartments(ctx)
		if err != nil {
			b.Fatal(err)
		}
		seen := map[string]bool{}
		for _, d := range append(depts, dingtalk.Department{DeptID: dingtalk.RootDeptID}) {
			users, err := c.ListDepartmentUsers(ctx, d.DeptID)
			if err != nil {
				b.Fatal(err)
			}
			for _, u := range users {
				seen[u.UserID] = true
			}
		}
		if len(seen) != 5000 {
			b.Fatalf("saw %d people", len(seen))
		}
	}
}
