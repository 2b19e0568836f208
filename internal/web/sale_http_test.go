package web_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dingcrm/crm/internal/apptest"
)

type productJSON struct {
	ID           int64  `json:"id"`
	Name         string `json:"name"`
	UnitPriceFen int64  `json:"unit_price_fen"`
	UnitPrice    string `json:"unit_price"`
	Active       bool   `json:"active"`
	Version      int    `json:"version"`
}

type saleJSON struct {
	ID            int64  `json:"id"`
	CustomerID    int64  `json:"customer_id"`
	OpportunityID *int64 `json:"opportunity_id"`
	OwnerID       int64  `json:"owner_id"`
	SaleDate      string `json:"sale_date"`
	AmountFen     int64  `json:"amount_fen"`
	Amount        string `json:"amount"`
	Lines         []struct {
		ProductID    int64  `json:"product_id"`
		ProductName  string `json:"product_name"`
		Quantity     int64  `json:"quantity"`
		UnitPriceFen int64  `json:"unit_price_fen"`
		TotalFen     int64  `json:"total_fen"`
		Total        string `json:"total"`
	} `json:"lines"`
	Version int `json:"version"`
}

type saleListJSON struct {
	Items  []saleJSON `json:"items"`
	Total  int        `json:"total"`
	Totals struct {
		Count     int    `json:"count"`
		AmountFen int64  `json:"amount_fen"`
		Amount    string `json:"amount"`
	} `json:"totals"`
}

// recCustomer adds a customer as the client's person.
func recCustomer(t *testing.T, c *apptest.Client, name string) int64 {
	t.Helper()
	var cu customerJSON
	if st := c.Do("POST", "/api/v1/customers", map[string]any{"name": name}, &cu); st != 201 {
		t.Fatalf("customer %s: %d", name, st)
	}
	return cu.ID
}

// recUserID is a signed-in person's user id.
func recUserID(c *apptest.Client) int64 { return int64(c.Me["id"].(float64)) }

// recCounts are row counts of tables (to prove nothing was written).
func recCounts(t *testing.T, srv *apptest.Server, tables ...string) string {
	t.Helper()
	out := []string{}
	for _, tb := range tables {
		var n int
		if err := srv.App.DB.Get(&n, "SELECT COUNT(*) FROM "+tb); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s=%d", tb, n))
	}
	return strings.Join(out, " ")
}

// TestSalesHTTP walks the catalogue and a sale through the API on every
// engine: money as integer fen plus a display string, totals over the
// filtered set, scope, the recycle bin, optimistic edits and the
// customer's timeline.
func TestSalesHTTP(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			admin, s1, s3, s5, mgr := srv.Login(t, "sim_admin"), srv.Login(t, "sim_s1"), srv.Login(t, "sim_s3"),
				srv.Login(t, "sim_s5"), srv.Login(t, "sim_mgr1")

			var p productJSON
			if st := admin.Do("POST", "/api/v1/products", map[string]any{"name": "标准版", "unit": "套", "unit_price_fen": 3333}, &p); st != 201 || p.UnitPrice != "33.33" {
				t.Fatalf("add product: %d %+v", st, p)
			}
			var e errJSON
			if st := s1.Do("POST", "/api/v1/products", map[string]any{"name": "私货"}, &e); st != 403 {
				t.Fatalf("salesperson adds a product: %d", st)
			}
			if st := admin.Do("POST", "/api/v1/products", map[string]any{"name": "标准版"}, &e); st != 400 || e.Error.Fields["name"] == "" {
				t.Fatalf("duplicate product: %d %+v", st, e)
			}
			var old productJSON
			admin.Do("POST", "/api/v1/products", map[string]any{"name": "旧版", "unit_price_fen": 100}, &old)
			if st := admin.Do("PATCH", fmt.Sprintf("/api/v1/products/%d", old.ID), map[string]any{"version": 1, "active": false}, &old); st != 200 || old.Active {
				t.Fatalf("deactivate: %d %+v", st, old)
			}
			var pl struct {
				Items []productJSON `json:"items"`
				Total int           `json:"total"`
			}
			// The demo catalogue plus 标准版; the deactivated 旧版 is not listed.
			if st := s1.Do("GET", "/api/v1/products?active=true", nil, &pl); st != 200 || !hasProduct(pl.Items, p.ID) || hasProduct(pl.Items, old.ID) {
				t.Fatalf("active products: %d %+v", st, pl)
			}

			cust := recCustomer(t, s1, "销售测试客户")
			var sl saleJSON
			body := map[string]any{"customer_id": cust, "sale_date": "2026-11-27",
				"lines": []map[string]any{{"product_id": p.ID, "quantity": 3}}}
			if st := s1.Do("POST", "/api/v1/sales", body, &sl); st != 201 {
				t.Fatalf("record sale: %d", st)
			}
			if sl.AmountFen != 9999 || sl.Amount != "99.99" || sl.SaleDate != "2026-11-27" || len(sl.Lines) != 1 ||
				sl.Lines[0].Total != "99.99" || sl.Lines[0].UnitPriceFen != 3333 || sl.OwnerID != recUserID(s1) {
				t.Fatalf("sale: %+v", sl)
			}
			s1.Do("POST", "/api/v1/sales", map[string]any{"customer_id": cust, "amount_fen": 1, "sale_date": "2026-12-01"}, nil)
			s3.Do("POST", "/api/v1/sales", map[string]any{"customer_id": recCustomer(t, s3, "华东客户"), "amount_fen": 500}, nil)
			s5.Do("POST", "/api/v1/sales", map[string]any{"customer_id": recCustomer(t, s5, "二部客户"), "amount_fen": 700}, nil)

			lists := []struct {
				who    *apptest.Client
				query  string
				count  int
				amount string
			}{
				{s1, "page_size=1", 2, "100.00"},
				{s1, "from=2026-11-01&to=2026-11-30", 1, "99.99"},
				{s1, fmt.Sprintf("product_id=%d", p.ID), 1, "99.99"},
				{s5, "", 1, "7.00"},
				{mgr, "", 3, "105.00"},
				{admin, "", 4, "112.00"},
			}
			for _, l := range lists {
				var got saleListJSON
				if st := l.who.Do("GET", "/api/v1/sales?"+l.query, nil, &got); st != 200 || got.Totals.Count != l.count ||
					got.Total != l.count || got.Totals.Amount != l.amount {
					t.Errorf("%s ?%s: %d %+v, want %d / %s", l.who.Me["userid"], l.query, st, got.Totals, l.count, l.amount)
				}
			}
			path := fmt.Sprintf("/api/v1/sales/%d", sl.ID)
			for _, who := range []*apptest.Client{s5, s3} {
				if st := who.Do("GET", path, nil, nil); st != 404 {
					t.Errorf("%s reads sim_s1's sale: %d", who.Me["userid"], st)
				}
			}
			if st := mgr.Do("GET", path, nil, nil); st != 200 {
				t.Errorf("manager reads the team's sale: %d", st)
			}

			if st := s1.Do("PATCH", path, map[string]any{"version": 1, "amount_fen": 9000}, &sl); st != 200 || sl.Amount != "90.00" || sl.Version != 2 {
				t.Fatalf("edit: %d %+v", st, sl)
			}
			if st := s1.Do("PATCH", path, map[string]any{"version": 1, "amount_fen": 1}, &e); st != 409 || e.Error.Code != "conflict" {
				t.Fatalf("stale edit: %d %+v", st, e)
			}
			if st := s1.Do("DELETE", path, nil, nil); st != 204 {
				t.Fatalf("delete: %d", st)
			}
			if st := s1.Do("GET", path, nil, nil); st != 404 {
				t.Fatalf("deleted sale readable: %d", st)
			}
			if st := s1.Do("GET", "/api/v1/recycle-bin/sales", nil, nil); st != 403 {
				t.Fatalf("salesperson opens the recycle bin: %d", st)
			}
			if st := s1.Do("POST", path+"/restore", nil, nil); st != 403 {
				t.Fatalf("salesperson restores: %d", st)
			}
			var bin saleListJSON
			if st := admin.Do("GET", "/api/v1/recycle-bin/sales", nil, &bin); st != 200 || bin.Total != 1 || bin.Items[0].ID != sl.ID {
				t.Fatalf("recycle bin: %d %+v", st, bin)
			}
			if st := admin.Do("POST", path+"/restore", nil, &sl); st != 200 || sl.AmountFen != 9000 {
				t.Fatalf("restore: %d %+v", st, sl)
			}

			// Every write is on the customer's timeline.
			var tl auditJSON
			s1.Do("GET", fmt.Sprintf("/api/v1/customers/%d/timeline?page_size=100", cust), nil, &tl)
			acts := []string{}
			for _, it := range tl.Items {
				if it.Entity == "sale" && it.EntityID == sl.ID {
					acts = append(acts, it.Action)
				}
			}
			if strings.Join(acts, ",") != "restore,delete,update,create" {
				t.Fatalf("timeline of the sale: %v", acts)
			}
		})
	}
}

// TestSaleBadInputHTTP: each bad sale is a 400 naming the field, and
// nothing is written.
func TestSaleBadInputHTTP(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			admin, s1, mgr := srv.Login(t, "sim_admin"), srv.Login(t, "sim_s1"), srv.Login(t, "sim_mgr1")
			gone := recUserID(srv.Login(t, "sim_s2"))
			if st := admin.Do("DELETE", fmt.Sprintf("/api/v1/users/%d", gone), nil, nil); st != 204 {
				t.Fatalf("deactivate: %d", st)
			}
			var p productJSON
			admin.Do("POST", "/api/v1/products", map[string]any{"name": "P", "unit_price_fen": 100}, &p)
			mine := recCustomer(t, s1, "我的")
			other := recCustomer(t, srv.Login(t, "sim_s5"), "别人的")
			mgrs := recCustomer(t, mgr, "经理的")
			line := func(q any) string {
				return fmt.Sprintf(`{"customer_id":%d,"lines":[{"product_id":%d,"quantity":%v}]}`, mine, p.ID, q)
			}
			tests := []struct {
				name  string
				who   *apptest.Client
				body  string
				field string
			}{
				{"unknown customer", s1, `{"customer_id":999999,"amount_fen":100}`, "customer_id"},
				{"someone else's customer", s1, fmt.Sprintf(`{"customer_id":%d,"amount_fen":100}`, other), "customer_id"},
				{"negative amount", s1, fmt.Sprintf(`{"customer_id":%d,"amount_fen":-100}`, mine), "amount_fen"},
				{"absurd amount", s1, fmt.Sprintf(`{"customer_id":%d,"amount_fen":1000000000001}`, mine), "amount_fen"},
				{"amount with decimals", s1, fmt.Sprintf(`{"customer_id":%d,"amount_fen":12.5}`, mine), "amount_fen"},
				{"amount as text", s1, fmt.Sprintf(`{"customer_id":%d,"amount_fen":"100"}`, mine), "amount_fen"},
				{"amount beyond int64", s1, fmt.Sprintf(`{"customer_id":%d,"amount_fen":99999999999999999999}`, mine), "amount_fen"},
				{"quantity 0", s1, line(0), "lines[0].quantity"},
				{"quantity 1.5", s1, line(1.5), "lines.quantity"},
				{"date not a date", s1, fmt.Sprintf(`{"customer_id":%d,"amount_fen":1,"sale_date":"2026-11-31"}`, mine), "sale_date"},
				{"date and time", s1, fmt.Sprintf(`{"customer_id":%d,"amount_fen":1,"sale_date":"2026-11-27T10:00:00Z"}`, mine), "sale_date"},
				{"deactivated salesperson", mgr, fmt.Sprintf(`{"customer_id":%d,"amount_fen":1,"owner_id":%d}`, mgrs, gone), "owner_id"},
				{"unknown field", s1, fmt.Sprintf(`{"customer_id":%d,"amount_fen":1,"discount":5}`, mine), "discount"},
				{"opportunity id not a number", s1, fmt.Sprintf(`{"customer_id":%d,"amount_fen":1,"opportunity_id":"x"}`, mine), "opportunity_id"},
			}
			tables := []string{"sales", "sale_items", "audit_log"}
			before := recCounts(t, srv, tables...)
			for _, tt := range tests {
				var e errJSON
				if st := tt.who.Do("POST", "/api/v1/sales", tt.body, &e); st != 400 || e.Error.Fields[tt.field] == "" {
					t.Errorf("%s: %d %+v, want 400 on %s", tt.name, st, e, tt.field)
				}
			}
			if after := recCounts(t, srv, tables...); after != before {
				t.Fatalf("bad input wrote rows: %s → %s", before, after)
			}
			for _, q := range []string{"from=tomorrow", "to=2026-02-30", "from=2026-11-30&to=2026-11-01", "owner_id=x", "page_size=1000"} {
				if st := s1.Do("GET", "/api/v1/sales?"+q, nil, nil); st != 400 {
					t.Errorf("GET /sales?%s: %d, want 400", q, st)
				}
			}
		})
	}
}

func hasProduct(items []productJSON, id int64) bool {
	for _, p := range items {
		if p.ID == id {
			return true
		}
	}
	return false
}
