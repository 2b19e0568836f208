package seed_test

import (
	"context"
	"strings"
	"testing"

	"github.com/dingcrm/crm/internal/seed"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
)

// TestEnsureRolesUpgrades: a new module's permissions reach the built-in
// roles of an existing installation, while an admin's edit within an
// existing module is kept.
func TestEnsureRolesUpgrades(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := seed.EnsureRoles(ctx, db); err != nil {
			t.Fatal(err)
		}
		// As if created before the contact module existed, and with the
		// admin having taken customer.delete away from salespeople.
		db.Exec("UPDATE roles SET permissions = 'customer.view customer.create' WHERE code = 'sales'")
		if err := seed.EnsureRoles(ctx, db); err != nil {
			t.Fatal(err)
		}
		var perms string
		db.Get(&perms, "SELECT permissions FROM roles WHERE code = 'sales'")
		if !strings.Contains(perms, "contact.view") {
			t.Errorf("new module not granted: %s", perms)
		}
		if strings.Contains(perms, "customer.delete") {
			t.Errorf("admin's removal undone: %s", perms)
		}
		var n int
		db.Get(&n, "SELECT COUNT(*) FROM roles")
		if n != 3 {
			t.Fatalf("%d roles", n)
		}
	})
}
