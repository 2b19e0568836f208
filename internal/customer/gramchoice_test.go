package customer_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/jmoiron/sqlx"

	. "github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
)

// TestRarestGram: the posting search reads the gram with the fewest
// postings in the scope (MySQL's EXPLAIN estimate, SQLite's count), in
// whichever place of the query it is. The answer is the same with any
// gram; this is what keeps it cheap.
func TestRarestGram(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, _ := searchFixture(t, ctx, db)
		st := NewStore(db)
		// 电子 is in 60 companies, 瑞丰 in 20, 丰电 in 5 and 杭州 in 40 (电子瑞 and 电子瑞丰 match none: 子瑞 is in no posting).
		for i := range 60 {
			company := "普通电子"
			switch {
			case i < 5:
				company = "瑞丰电子"
			case i < 20:
				company = "瑞丰贸易电子"
			case i < 60:
				company = "杭州电子"
			}
			name, phone := fmt.Sprintf("客户%02d", i), fmt.Sprintf("1390000%04d", i)
			c := &Customer{Name: name, Company: company, Phone: phone, OwnerID: a.UserID, Status: DefaultStatus,
				Tags: []string{}, CreatedBy: a.UserID, CreatedAt: store.Now(), UpdatedAt: store.Now()}
			if err := db.WithTx(ctx, func(tx *sqlx.Tx) error { return st.Insert(ctx, tx, c) }); err != nil {
				t.Fatal(err)
			}
		}
		if db.Dialect == store.MySQL {
			if _, err := db.ExecContext(ctx, "ANALYZE TABLE customer_grams"); err != nil {
				t.Fatal(err)
			}
		}
		for _, q := range []string{"瑞丰电子", "电子瑞丰", "丰电子", "电子瑞"} {
			want := QueryGrams(map[string]string{"瑞丰电子": "丰电", "电子瑞丰": "子瑞", "丰电子": "丰电", "电子瑞": "子瑞"}[q])[0]
			for _, owner := range []int64{0, a.UserID} { // the company's postings, one owner's
				got, err := RarestGram(ctx, st, owner, q)
				if err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Errorf("%q (owner %d): gram %d, want %d", q, owner, got, want)
				}
			}
		}
	})
}
