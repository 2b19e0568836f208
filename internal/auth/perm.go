// Package auth decides who is calling and what they may do: sessions, the
// Actor built for every request, permission codes and data scopes.
package auth

import (
	"sort"
	"strings"
)

// Modules are the parts of the CRM a permission can be about. Later issues
// add theirs here; the catalogue is fixed in code so a typo cannot grant
// anything.
var Modules = []string{"customer", "contact", "followup", "product", "sale", "opportunity", "pool",
	"reminder", "report", "target", "user", "role", "audit", "setting", "job", "system"}

// Actions are what one can do in a module.
var Actions = []string{"view", "create", "edit", "delete", "export", "import", "assign", "transfer", "manage"}

// Perm is a permission code, "module.action".
type Perm string

// The permission codes the foundation checks.
const (
	CustomerView   Perm = "customer.view"
	CustomerCreate Perm = "customer.create"
	CustomerEdit   Perm = "customer.edit"
	CustomerDelete Perm = "customer.delete"
	CustomerAssign Perm = "customer.assign"
	CustomerManage Perm = "customer.manage" // recycle bin
	UserView       Perm = "user.view"
	UserManage     Perm = "user.manage"
	RoleView       Perm = "role.view"
	AuditView      Perm = "audit.view"
)

// Module is the part before the dot.
func (p Perm) Module() string { m, _, _ := strings.Cut(string(p), "."); return m }

// AllPerms is every valid code (module × action).
func AllPerms() []Perm {
	out := make([]Perm, 0, len(Modules)*len(Actions))
	for _, m := range Modules {
		for _, a := range Actions {
			out = append(out, Perm(m+"."+a))
		}
	}
	return out
}

// ValidPerm reports whether p is in the catalogue.
func ValidPerm(p Perm) bool {
	m, a, ok := strings.Cut(string(p), ".")
	return ok && contains(Modules, m) && contains(Actions, a)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Scope is a role's data scope: which records its holder sees.
type Scope string

// The data scopes, narrowest first (DingTalk's own: own, selfDept,
// selfSubDept, all_org).
const (
	ScopeSelf     Scope = "self"
	ScopeDept     Scope = "dept"
	ScopeDeptTree Scope = "dept_tree"
	ScopeAll      Scope = "all"
)

// Scopes in order of breadth.
var Scopes = []Scope{ScopeSelf, ScopeDept, ScopeDeptTree, ScopeAll}

func (s Scope) rank() int {
	for i, x := range Scopes {
		if x == s {
			return i
		}
	}
	return -1
}

// Wider returns the broader of two scopes: a person with several roles sees
// what the broadest lets them.
func Wider(a, b Scope) Scope {
	if b.rank() > a.rank() {
		return b
	}
	return a
}

// ParsePerms reads the space-separated list stored with a role, dropping
// codes no longer in the catalogue.
func ParsePerms(s string) []Perm {
	var out []Perm
	for _, f := range strings.Fields(s) {
		if ValidPerm(Perm(f)) {
			out = append(out, Perm(f))
		}
	}
	return out
}

// FormatPerms is the stored form of a permission list: sorted, deduplicated.
func FormatPerms(ps []Perm) string {
	set := map[string]bool{}
	for _, p := range ps {
		set[string(p)] = true
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// BuiltinRole is a role every installation has.
type BuiltinRole struct {
	Code  string
	Name  string
	Scope Scope
	Perms []Perm
}

// BuiltinRoles are 管理员, 销售经理 and 销售.
func BuiltinRoles() []BuiltinRole {
	records := []string{"customer", "contact", "followup", "sale", "opportunity"}
	var manager, sales []Perm
	for _, m := range records {
		for _, a := range []string{"view", "create", "edit", "delete", "export"} {
			sales = append(sales, Perm(m+"."+a))
			manager = append(manager, Perm(m+"."+a))
		}
		for _, a := range []string{"import", "assign", "transfer"} {
			manager = append(manager, Perm(m+"."+a))
		}
	}
	// Everyone may see the product catalogue and the public pool and claim
	// from it; managers also assign from the pool.
	// Reminders: everyone keeps their own; managers may set them for their
	// people (reminder.assign). Reports cover the Actor's data scope; targets
	// are set by managers for their departments.
	sales = append(sales, "product.view", "pool.view", "pool.create",
		"reminder.view", "reminder.create", "reminder.edit", "reminder.delete",
		"report.view", "report.export", "target.view")
	manager = append(manager, "product.view", "pool.view", "pool.create", "pool.assign", "user.view", "role.view",
		"reminder.view", "reminder.create", "reminder.edit", "reminder.delete", "reminder.assign",
		"report.view", "report.export", "target.view", "target.create", "target.edit", "target.delete")
	return []BuiltinRole{
		{Code: "admin", Name: "管理员", Scope: ScopeAll, Perms: AllPerms()},
		{Code: "manager", Name: "销售经理", Scope: ScopeDeptTree, Perms: manager},
		{Code: "sales", Name: "销售", Scope: ScopeSelf, Perms: sales},
	}
}
