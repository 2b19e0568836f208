package web_test

import (
	"fmt"
	"testing"

	"github.com/dingcrm/crm/internal/apptest"
)

// TestDataScope checks that each role sees exactly its scope, in lists and
// reads, on every engine. The simulated org: 销售一部 (sim_mgr1, sim_s1,
// sim_s2, sim_s8) with 华东组 below it (sim_s3, sim_s4); 销售二部 (sim_mgr2,
// sim_s5..s7, sim_s8 too); an admin at the top.
func TestDataScope(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			ids := map[string]int64{}
			for _, who := range []string{"sim_s1", "sim_s3", "sim_s5"} {
				var c customerJSON
				if st := srv.Login(t, who).Do("POST", "/api/v1/customers", map[string]any{"name": "范围测试" + who}, &c); st != 201 {
					t.Fatalf("create as %s: %d", who, st)
				}
				ids[who] = c.ID
			}
			tests := []struct {
				viewer string
				sees   map[string]bool
			}{
				{"sim_s1", map[string]bool{"sim_s1": true}},
				{"sim_s2", map[string]bool{}},
				{"sim_s5", map[string]bool{"sim_s5": true}},
				{"sim_mgr1", map[string]bool{"sim_s1": true, "sim_s3": true}},
				{"sim_mgr2", map[string]bool{"sim_s5": true}},
				{"sim_admin", map[string]bool{"sim_s1": true, "sim_s3": true, "sim_s5": true}},
			}
			for _, tt := range tests {
				t.Run(tt.viewer, func(t *testing.T) {
					c := srv.Login(t, tt.viewer)
					l := search(t, c, "范围测试")
					if len(l.Items) != len(tt.sees) || l.Total != len(tt.sees) {
						t.Errorf("list shows %d (total %d), want %d", len(l.Items), l.Total, len(tt.sees))
					}
					for owner, id := range ids {
						want := 404
						if tt.sees[owner] {
							want = 200
						}
						path := fmt.Sprintf("/api/v1/customers/%d", id)
						if st := c.Do("GET", path, nil, nil); st != want {
							t.Errorf("GET %s's customer: %d, want %d", owner, st, want)
						}
						// Out of scope is not found for edits and deletes too.
						if !tt.sees[owner] {
							if st := c.Do("PATCH", path, map[string]any{"version": 1, "name": "hijack"}, nil); st != 404 {
								t.Errorf("PATCH %s's customer: %d, want 404", owner, st)
							}
							if st := c.Do("DELETE", path, nil, nil); st != 404 {
								t.Errorf("DELETE %s's customer: %d, want 404", owner, st)
							}
						}
					}
				})
			}
			// A manager may assign within their departments, not outside.
			mgr := srv.Login(t, "sim_mgr1")
			var s3, s5 struct {
				ID int64 `json:"id"`
			}
			var users struct {
				Items []struct {
					ID     int64  `json:"id"`
					UserID string `json:"userid"`
				} `json:"items"`
			}
			mgr.Do("GET", "/api/v1/users?page_size=100", nil, &users)
			for _, u := range users.Items {
				switch u.UserID {
				case "sim_s3":
					s3.ID = u.ID
				case "sim_s5":
					s5.ID = u.ID
				}
			}
			var moved customerJSON
			path := fmt.Sprintf("/api/v1/customers/%d", ids["sim_s1"])
			if st := mgr.Do("PATCH", path, map[string]any{"version": 1, "owner_id": s3.ID}, &moved); st != 200 || moved.OwnerID != s3.ID {
				t.Fatalf("assign within scope: %d %+v", st, moved)
			}
			var e errJSON
			if st := mgr.Do("PATCH", path, map[string]any{"version": moved.Version, "owner_id": s5.ID}, &e); st != 400 || e.Error.Fields["owner_id"] == "" {
				t.Fatalf("assign out of scope: %d %+v", st, e)
			}
			sales := srv.Login(t, "sim_s3")
			if st := sales.Do("PATCH", path, map[string]any{"version": moved.Version, "owner_id": s5.ID}, &e); st != 400 || e.Error.Fields["owner_id"] == "" {
				t.Fatalf("salesperson assigned away: %d %+v", st, e)
			}
		})
	}
}
