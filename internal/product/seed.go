package product

import (
	"context"
	"fmt"

	"github.com/dingcrm/crm/internal/store"
)

// demoProducts are what a simulated installation's catalogue starts with.
var demoProducts = []Product{
	{Name: "星辰CRM 标准版（年费）", Code: "CRM-STD", Unit: "套/年", UnitPriceFen: 598000},
	{Name: "星辰CRM 专业版（年费）", Code: "CRM-PRO", Unit: "套/年", UnitPriceFen: 1280000},
	{Name: "钉钉集成模块", Code: "DT-INT", Unit: "套", UnitPriceFen: 880000},
	{Name: "实施服务", Code: "SVC-IMP", Unit: "人天", UnitPriceFen: 150000},
	{Name: "培训服务", Code: "SVC-TRN", Unit: "场", UnitPriceFen: 300000},
	{Name: "数据迁移服务", Code: "SVC-MIG", Unit: "次", UnitPriceFen: 500000},
}

// SeedDemo fills an empty catalogue with a handful of demo products (for the
// simulated organization); a catalogue that has any product is left alone,
// so calling it again is harmless.
func SeedDemo(ctx context.Context, db *store.DB) error {
	var n int
	if err := db.GetContext(ctx, &n, "SELECT COUNT(*) FROM products"); err != nil {
		return fmt.Errorf("product: seed count: %w", err)
	}
	if n > 0 {
		return nil
	}
	st := NewStore(db)
	now := store.Now()
	for _, p := range demoProducts {
		p.Active, p.CreatedAt, p.UpdatedAt = true, now, now
		if err := st.Insert(ctx, db, &p); err != nil && err != errNameTaken {
			return fmt.Errorf("product: seed %s: %w", p.Name, err)
		}
	}
	return nil
}
