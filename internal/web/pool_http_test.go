package web_test

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/dingcrm/crm/internal/apptest"
)

type poolItemJSON struct {
	customerJSON
	PoolCause       string  `json:"pool_cause"`
	PoolReason      string  `json:"pool_reason"`
	FormerOwnerName string  `json:"former_owner_name"`
	PoolEnteredAt   *string `json:"pool_entered_at"`
	ClaimableFrom   *string `json:"claimable_from"`
}

type poolListJSON struct {
	Items []poolItemJSON `json:"items"`
	Total int            `json:"total"`
}

type dupJSON struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	OwnerName string `json:"owner_name"`
	InPool    bool   `json:"in_pool"`
	Visible   bool   `json:"visible"`
	Match     string `json:"match"`
}

type dupErrJSON struct {
	Error struct {
		Code    string             `json:"code"`
		Message string             `json:"message"`
		Fields  map[string]string  `json:"fields"`
		Detail  map[string]dupJSON `json:"detail"`
	} `json:"error"`
}

func userIDOf(t *testing.T, srv *apptest.Server, userid string) int64 {
	t.Helper()
	var id int64
	if err := srv.App.DB.Get(&id, "SELECT id FROM users WHERE userid = ?", userid); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestPoolHTTP walks release → pool list → cooldown → claim → transfer
// through the API on every engine, with the permission, scope and bad-input
// answers and nothing written by a refused request.
func TestPoolHTTP(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			s1, s2, mgr1, admin := srv.Login(t, "sim_s1"), srv.Login(t, "sim_s2"), srv.Login(t, "sim_mgr1"), srv.Login(t, "sim_admin")
			var x customerJSON
			if st := s1.Do("POST", "/api/v1/customers", map[string]any{"name": "公海客户甲", "phone": "13811112222"}, &x); st != 201 {
				t.Fatalf("create: %d", st)
			}
			path := fmt.Sprintf("/api/v1/customers/%d", x.ID)

			c0, a0 := counts(t, srv)
			var e errJSON
			for _, body := range []any{map[string]any{}, map[string]any{"reason": ""}, map[string]any{"reason": "x", "why": 1}, `{"reason": 5}`} {
				if st := s1.Do("POST", path+"/release", body, &e); st != 400 || e.Error.Fields == nil {
					t.Fatalf("release %v: %d %+v", body, st, e)
				}
			}
			if st := s2.Do("POST", path+"/release", map[string]any{"reason": "抢"}, nil); st != 404 {
				t.Fatalf("release of another's customer: %d", st)
			}
			if c1, a1 := counts(t, srv); c1 != c0 || a1 != a0 {
				t.Fatal("a refused release wrote something")
			}
			if st := s1.Do("POST", path+"/release", map[string]any{"reason": "客户暂无预算"}, nil); st != 204 {
				t.Fatalf("release: %d", st)
			}
			if st := s1.Do("GET", path, nil, nil); st != 404 {
				t.Fatalf("released customer still the owner's: %d", st)
			}
			var pl poolListJSON
			if st := s2.Do("GET", "/api/v1/pool?q=公海客户", nil, &pl); st != 200 || pl.Total != 1 {
				t.Fatalf("pool list: %d %+v", st, pl)
			}
			it := pl.Items[0]
			if it.ID != x.ID || it.OwnerID != 0 || it.PoolCause != "release" || it.PoolReason != "客户暂无预算" ||
				it.FormerOwnerName != "王芳" || it.Phone != "13811112222" || it.ClaimableFrom != nil {
				t.Fatalf("pool item: %+v", it)
			}
			if st := s2.Do("GET", "/api/v1/pool?q=1111%202222", nil, &pl); st != 200 || pl.Total != 1 {
				t.Fatalf("pool search by phone: %d %d", st, pl.Total)
			}
			if st := s2.Do("GET", "/api/v1/pool?level=vip", nil, &e); st != 400 || e.Error.Fields["level"] == "" {
				t.Fatalf("pool list bad level: %d %+v", st, e)
			}
			var cool struct {
				Error struct {
					Code   string         `json:"code"`
					Detail map[string]any `json:"detail"`
				} `json:"error"`
			}
			if st := s1.Do("POST", fmt.Sprintf("/api/v1/pool/%d/claim", x.ID), nil, &cool); st != 409 || cool.Error.Code != "conflict" || cool.Error.Detail["claimable_from"] == nil {
				t.Fatalf("claim in cooldown: %d %+v", st, cool)
			}
			var claimed customerJSON
			if st := s2.Do("POST", fmt.Sprintf("/api/v1/pool/%d/claim", x.ID), nil, &claimed); st != 200 || claimed.OwnerName != "刘洋" {
				t.Fatalf("claim: %d %+v", st, claimed)
			}
			if st := s1.Do("POST", fmt.Sprintf("/api/v1/pool/%d/claim", x.ID), nil, nil); st != 404 {
				t.Fatalf("claim of a claimed customer: %d", st)
			}
			var tl auditJSON
			s2.Do("GET", path+"/timeline", nil, &tl)
			if tl.Total < 3 || tl.Items[0].Action != "claim" || tl.Items[1].Action != "release" {
				t.Fatalf("timeline: %+v", tl)
			}

			// Permissions: salespeople neither transfer, assign nor edit rules.
			s3 := userIDOf(t, srv, "sim_s3")
			for _, r := range []struct {
				method, path string
				body         any
			}{
				{"POST", "/api/v1/customers/transfer", map[string]any{"customer_ids": []int64{x.ID}, "to_user_id": s3}},
				{"POST", path + "/transfer", map[string]any{"to_user_id": s3}},
				{"POST", fmt.Sprintf("/api/v1/pool/%d/assign", x.ID), map[string]any{"user_id": s3}},
				{"GET", "/api/v1/pool/rules", nil},
				{"PUT", "/api/v1/pool/rules", map[string]any{"max_owned": 1}},
			} {
				if st := s2.Do(r.method, r.path, r.body, nil); st != 403 {
					t.Errorf("%s %s as a salesperson: %d", r.method, r.path, st)
				}
			}

			// Bulk transfer: all or nothing, problems per id.
			var y customerJSON
			srv.Login(t, "sim_s5").Do("POST", "/api/v1/customers", map[string]any{"name": "二部客户"}, &y)
			c0, a0 = counts(t, srv)
			var te errJSON
			st := mgr1.Do("POST", "/api/v1/customers/transfer", map[string]any{"customer_ids": []int64{x.ID, y.ID}, "to_user_id": s3}, &te)
			if st != 400 || te.Error.Fields[fmt.Sprintf("customer_ids.%d", y.ID)] == "" || len(te.Error.Fields) != 1 {
				t.Fatalf("transfer with one out of scope: %d %+v", st, te)
			}
			many := make([]int64, 501)
			for i := range many {
				many[i] = int64(i + 1)
			}
			if st := mgr1.Do("POST", "/api/v1/customers/transfer", map[string]any{"customer_ids": many, "to_user_id": s3}, &te); st != 400 || te.Error.Fields["customer_ids"] == "" {
				t.Fatalf("501 ids: %d %+v", st, te)
			}
			if st := mgr1.Do("POST", "/api/v1/customers/transfer", map[string]any{"customer_ids": []int64{x.ID}, "to_user_id": userIDOf(t, srv, "sim_s5")}, &te); st != 400 || te.Error.Fields["to_user_id"] == "" {
				t.Fatalf("transfer out of the manager's departments: %d %+v", st, te)
			}
			if c1, a1 := counts(t, srv); c1 != c0 || a1 != a0 {
				t.Fatal("a refused transfer wrote something")
			}
			var res struct {
				Transferred int `json:"transferred"`
			}
			if st := mgr1.Do("POST", "/api/v1/customers/transfer", map[string]any{"customer_ids": []int64{x.ID}, "to_user_id": s3}, &res); st != 200 || res.Transferred != 1 {
				t.Fatalf("transfer: %d %+v", st, res)
			}
			if st := mgr1.Do("POST", fmt.Sprintf("/api/v1/customers/%d/transfer", y.ID), map[string]any{"to_user_id": s3}, nil); st != 404 {
				t.Fatalf("single transfer out of scope: %d", st)
			}

			// Rules: the admin reads and edits them.
			var rules map[string]any
			if st := admin.Do("GET", "/api/v1/pool/rules", nil, &rules); st != 200 || rules["max_owned"] != float64(200) {
				t.Fatalf("rules: %d %v", st, rules)
			}
			rules["max_owned"] = -5
			delete(rules, "updated_at")
			delete(rules, "updated_by")
			if st := admin.Do("PUT", "/api/v1/pool/rules", rules, &e); st != 400 || e.Error.Fields["max_owned"] == "" {
				t.Fatalf("bad rules: %d %+v", st, e)
			}
			rules["max_owned"] = 150
			if st := admin.Do("PUT", "/api/v1/pool/rules", rules, &rules); st != 200 || rules["max_owned"] != float64(150) || rules["version"] != float64(2) {
				t.Fatalf("rules saved: %d %v", st, rules)
			}
		})
	}
}

// TestDuplicateHTTP: a duplicate create or edit answers 409 "conflict" that
// names the existing customer (id, name, owner) to whoever may see it and
// only its owner to anyone else, never its phone or company.
func TestDuplicateHTTP(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			s1, s5, admin := srv.Login(t, "sim_s1"), srv.Login(t, "sim_s5"), srv.Login(t, "sim_admin")
			var orig customerJSON
			if st := s1.Do("POST", "/api/v1/customers", map[string]any{"name": "查重客户", "phone": "139-0000-1111", "company": "ＡＢＣ有限公司"}, &orig); st != 201 {
				t.Fatalf("create: %d", st)
			}
			c0, a0 := counts(t, srv)
			tests := []struct {
				name    string
				who     *apptest.Client
				body    map[string]any
				visible bool
				match   string
			}{
				{"phone, owner", s1, map[string]any{"name": "别名", "phone": "+86 139 0000 1111"}, true, "phone"},
				{"phone, admin", admin, map[string]any{"name": "别名", "phone": "13900001111"}, true, "phone"},
				{"phone, other dept", s5, map[string]any{"name": "别名", "phone": "139 0000 1111", "company": "秘密公司"}, false, "phone"},
				{"name+company, owner", s1, map[string]any{"name": " 查重 客户 ", "company": "abc有限公司"}, true, "name"},
				{"name+company, other dept", s5, map[string]any{"name": "查重客户", "company": "Ａｂｃ 有限公司"}, false, "name"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					resp := tt.who.Raw("POST", "/api/v1/customers", tt.body, nil)
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					raw := string(b)
					var e dupErrJSON
					if err := json.Unmarshal(b, &e); err != nil {
						t.Fatalf("%s: %v", raw, err)
					}
					d := e.Error.Detail["duplicate"]
					if resp.StatusCode != 409 || e.Error.Code != "conflict" || d.OwnerName != "王芳" || d.Match != tt.match || d.Visible != tt.visible {
						t.Fatalf("%d %s", resp.StatusCode, raw)
					}
					if !strings.Contains(e.Error.Message, "王芳") {
						t.Errorf("message does not name the owner: %s", e.Error.Message)
					}
					if tt.visible {
						if d.ID != orig.ID || d.Name != "查重客户" || !strings.Contains(e.Error.Message, "查重客户") {
							t.Errorf("in scope: %s", raw)
						}
						return
					}
					for _, secret := range []string{"查重客户", "13900001111", "ＡＢＣ", "ABC", fmt.Sprintf(`"id":%d`, orig.ID)} {
						if strings.Contains(raw, secret) {
							t.Errorf("out-of-scope 409 leaks %q: %s", secret, raw)
						}
					}
				})
			}
			if c1, a1 := counts(t, srv); c1 != c0 || a1 != a0 {
				t.Fatal("a refused create wrote something")
			}
			// Editing another customer onto the phone is refused too.
			var z customerJSON
			s1.Do("POST", "/api/v1/customers", map[string]any{"name": "另一位", "phone": "13900002222"}, &z)
			var e dupErrJSON
			if st := s1.Do("PATCH", fmt.Sprintf("/api/v1/customers/%d", z.ID), map[string]any{"version": z.Version, "phone": "139-0000-1111"}, &e); st != 409 || e.Error.Detail["duplicate"].ID != orig.ID {
				t.Fatalf("edit onto a taken phone: %d %+v", st, e)
			}
			// The lookup, with the same visibility.
			var found struct {
				Items []dupJSON `json:"items"`
			}
			if st := s5.Do("GET", "/api/v1/customers/duplicates?phone=139%200000%201111", nil, &found); st != 200 || len(found.Items) != 1 || found.Items[0].ID != 0 || found.Items[0].Name != "" {
				t.Fatalf("lookup out of scope: %d %+v", st, found)
			}
			if st := s1.Do("GET", "/api/v1/customers/duplicates?name=查重客户&company=abc有限公司", nil, &found); st != 200 || len(found.Items) != 1 || found.Items[0].ID != orig.ID {
				t.Fatalf("lookup in scope: %d %+v", st, found)
			}
			var ve errJSON
			if st := s1.Do("GET", "/api/v1/customers/duplicates", nil, &ve); st != 400 || ve.Error.Fields["phone"] == "" {
				t.Fatalf("lookup without input: %d %+v", st, ve)
			}

			// Merge: z into orig, as the admin.
			for _, body := range []any{map[string]any{}, map[string]any{"from_id": orig.ID}, `{"from_id": "x"}`, map[string]any{"from_id": z.ID, "x": 1}} {
				if st := admin.Do("POST", fmt.Sprintf("/api/v1/customers/%d/merge", orig.ID), body, &ve); st != 400 {
					t.Fatalf("merge %v: %d %+v", body, st, ve)
				}
			}
			if st := s1.Do("POST", fmt.Sprintf("/api/v1/customers/%d/merge", orig.ID), map[string]any{"from_id": z.ID}, nil); st != 403 {
				t.Fatalf("merge as a salesperson: %d", st)
			}
			var merged struct {
				Customer customerJSON     `json:"customer"`
				Moved    map[string]int64 `json:"moved"`
				Filled   []string         `json:"filled"`
			}
			if st := admin.Do("POST", fmt.Sprintf("/api/v1/customers/%d/merge", orig.ID), map[string]any{"from_id": z.ID}, &merged); st != 200 || merged.Customer.ID != orig.ID {
				t.Fatalf("merge: %d %+v", st, merged)
			}
			if st := s1.Do("GET", fmt.Sprintf("/api/v1/customers/%d", z.ID), nil, nil); st != 404 {
				t.Fatalf("merged customer still live: %d", st)
			}
		})
	}
}
