package web_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/dingcrm/crm/internal/apptest"
)

type customerJSON struct {
	ID            int64    `json:"id"`
	Name          string   `json:"name"`
	Phone         string   `json:"phone"`
	Company       string   `json:"company"`
	Tags          []string `json:"tags"`
	OwnerID       int64    `json:"owner_id"`
	OwnerName     string   `json:"owner_name"`
	Version       int      `json:"version"`
	Status        string   `json:"status"`
	DeletedByName *string  `json:"deleted_by_name"`
}

type listJSON struct {
	Items []customerJSON `json:"items"`
	Total int            `json:"total"`
}

type errJSON struct {
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Fields  map[string]string `json:"fields"`
	} `json:"error"`
}

type auditJSON struct {
	Items []struct {
		Action     string                    `json:"action"`
		Entity     string                    `json:"entity"`
		EntityID   int64                     `json:"entity_id"`
		ActorName  string                    `json:"actor_name"`
		Changes    map[string]map[string]any `json:"changes"`
		IP         string                    `json:"ip"`
		RequestID  string                    `json:"request_id"`
		EntityName string                    `json:"entity_name"`
	} `json:"items"`
	Total int `json:"total"`
}

func search(t *testing.T, c *apptest.Client, q string) listJSON {
	t.Helper()
	var l listJSON
	if st := c.Do("GET", "/api/v1/customers?page_size=100&q="+url.QueryEscape(q), nil, &l); st != 200 {
		t.Fatalf("search %q: status %d", q, st)
	}
	return l
}

func has(l listJSON, id int64) bool {
	for _, it := range l.Items {
		if it.ID == id {
			return true
		}
	}
	return false
}

// TestCustomerLifecycle walks the manual's 添加客户 → 搜索 → 编辑 → 删除 →
// 回收站恢复 through the real HTTP stack on every engine, and checks that
// each write left an audit entry with its before/after values.
func TestCustomerLifecycle(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			sales := srv.Login(t, "sim_s1")
			var created customerJSON
			st := sales.Do("POST", "/api/v1/customers", map[string]any{
				"name": "欧阳测试", "phone": "139-1234-5678", "company": "苏州测绘仪器有限公司", "address": "苏州市工业园区星湖街 1 号",
				"industry": "manufacturing", "source": "exhibition", "level": "a", "status": "intent",
				"tags": []string{"重点", "展会"}, "note": "<b>备注</b>",
			}, &created)
			if st != 201 || created.ID == 0 || created.OwnerName != "王芳" || created.Version != 1 || created.Phone != "13912345678" {
				t.Fatalf("create: %d %+v", st, created)
			}
			for _, q := range []string{"欧阳", "阳测", "测绘仪器", "SUZHOU", "1234", "139 1234", "5678"} {
				l := search(t, sales, q)
				wantHit := q != "SUZHOU"
				if has(l, created.ID) != wantHit {
					t.Errorf("search %q: found=%v want %v (%d results)", q, !wantHit, wantHit, l.Total)
				}
			}
			for tag, want := range map[string]bool{"展会": true, "展": false, "%": false} {
				var l listJSON
				if st := sales.Do("GET", "/api/v1/customers?tag="+url.QueryEscape(tag), nil, &l); st != 200 || has(l, created.ID) != want {
					t.Errorf("tag filter %q: %d found=%v want %v", tag, st, has(l, created.ID), want)
				}
			}
			path := fmt.Sprintf("/api/v1/customers/%d", created.ID)
			var edited customerJSON
			if st := sales.Do("PATCH", path, map[string]any{"version": 1, "phone": "13912340000", "tags": []string{}}, &edited); st != 200 {
				t.Fatalf("edit: %d", st)
			}
			if edited.Phone != "13912340000" || edited.Version != 2 || len(edited.Tags) != 0 || edited.Company != created.Company {
				t.Fatalf("edit result: %+v", edited)
			}
			var conflict errJSON
			if st := sales.Do("PATCH", path, map[string]any{"version": 1, "name": "改名"}, &conflict); st != 409 || conflict.Error.Code != "conflict" {
				t.Fatalf("stale edit: %d %+v", st, conflict)
			}
			if has(search(t, sales, "1234-5678"), created.ID) || !has(search(t, sales, "1234 0000"), created.ID) {
				t.Error("search index not updated after the phone changed")
			}
			if st := sales.Do("DELETE", path, nil, nil); st != 204 {
				t.Fatalf("delete: %d", st)
			}
			if st := sales.Do("GET", path, nil, nil); st != 404 {
				t.Fatalf("deleted customer readable: %d", st)
			}
			if has(search(t, sales, "欧阳测试"), created.ID) {
				t.Fatal("deleted customer still in search")
			}
			if st := sales.Do("GET", "/api/v1/recycle-bin/customers", nil, nil); st != 403 {
				t.Fatalf("salesperson opened the recycle bin: %d", st)
			}
			admin := srv.Login(t, "sim_admin")
			var bin listJSON
			admin.Do("GET", "/api/v1/recycle-bin/customers", nil, &bin)
			if !has(bin, created.ID) || bin.Items[0].DeletedByName == nil || *bin.Items[0].DeletedByName != "王芳" {
				t.Fatalf("recycle bin: %+v", bin)
			}
			if st := admin.Do("POST", path+"/restore", nil, nil); st != 200 {
				t.Fatalf("restore: %d", st)
			}
			if !has(search(t, sales, "欧阳测试"), created.ID) {
				t.Fatal("restored customer not back in the owner's list")
			}
			var log auditJSON
			if st := admin.Do("GET", fmt.Sprintf("/api/v1/audit?entity=customer&entity_id=%d", created.ID), nil, &log); st != 200 {
				t.Fatalf("audit: %d", st)
			}
			var actions []string
			for _, it := range log.Items {
				actions = append(actions, it.Action)
				if it.RequestID == "" || it.IP == "" {
					t.Errorf("audit entry without request id or ip: %+v", it)
				}
			}
			if strings.Join(actions, ",") != "restore,delete,update,create" {
				t.Fatalf("audit actions: %v", actions)
			}
			var tl auditJSON
			if st := sales.Do("GET", path+"/timeline", nil, &tl); st != 200 || tl.Total != 4 || tl.Items[0].Action != "restore" {
				t.Fatalf("owner's timeline: %d %+v", st, tl)
			}
			if st := srv.Login(t, "sim_s5").Do("GET", path+"/timeline", nil, nil); st != 404 {
				t.Fatalf("another department's salesperson read the timeline: %d", st)
			}
			upd := log.Items[2].Changes
			if upd["phone"]["old"] != "13912345678" || upd["phone"]["new"] != "13912340000" {
				t.Errorf("update audit lacks phone before/after: %+v", upd)
			}
			if _, ok := upd["name"]; ok {
				t.Errorf("unchanged field audited: %+v", upd)
			}
		})
	}
}
