package web_test

import (
	"archive/zip"
	"bytes"
	"compress/zlib"
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dingcrm/crm/internal/apptest"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/outbox"
)

// TestEveryRoutePermission walks the router's own list of routes: every
// route × every persona × every record it can point at, checking the status
// and that no marker of a record outside the persona's scope appears in any
// answer (JSON, CSV, or the XML inside an xlsx). A route registered without
// an entry in rpTable fails the test. Run it alone with
//
//	go test ./internal/web/ -run TestEveryRoutePermission
//
// The full matrix runs on SQLite; MySQL (when configured) runs the reads.
func TestEveryRoutePermission(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			checkTableCoversRouter(t, srv)
			f := newRPFixture(t, srv)
			keys := make([]string, 0, len(rpTable))
			for k := range rpTable {
				keys = append(keys, k)
			}
			// Reads first, while the fixed records are all there is.
			sort.Slice(keys, func(i, j int) bool {
				if isWrite(keys[i]) != isWrite(keys[j]) {
					return !isWrite(keys[i])
				}
				return keys[i] < keys[j]
			})
			for _, key := range keys {
				r := rpTable[key]
				if r.public != "" || r.skip != "" {
					continue
				}
				if engine != "sqlite" && isWrite(key) {
					continue // writes run on SQLite only, to stay fast
				}
				f.runRoute(t, key, r)
			}
			f.runPublic(t)
			f.checkShown(t, engine)
			f.checkBot(t)
			if engine == "sqlite" {
				f.checkReferences(t)
			}
			t.Logf("%d routes in the table, %d calls checked", len(rpTable), f.calls)
		})
	}
}

func isWrite(key string) bool { return !strings.HasPrefix(key, "GET ") }

// checkTableCoversRouter fails for routes in the router but not in the
// table, and for table entries naming routes that no longer exist.
func checkTableCoversRouter(t *testing.T, srv *apptest.Server) {
	t.Helper()
	have := map[string]bool{}
	var missing []string
	for _, ri := range srv.App.Web.Routes() {
		key := ri.Method + " " + ri.Path
		have[key] = true
		if _, ok := rpTable[key]; !ok {
			missing = append(missing, key)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("%d routes have no entry in rpTable (routeperm_test.go); add one saying who may call them:\n\t%s",
			len(missing), strings.Join(missing, "\n\t"))
	}
	var stale []string
	for k := range rpTable {
		if !have[k] {
			stale = append(stale, k)
		}
	}
	sort.Strings(stale)
	if len(stale) > 0 {
		t.Errorf("rpTable names routes the router does not have:\n\t%s", strings.Join(stale, "\n\t"))
	}
}

// ---- personas and records ----

// Owners of the fixed records: A and B are salespeople of 销售一部 (sim_s1,
// sim_s2), C is in 销售二部 (sim_s5); P is a pool record (no owner).
const (
	ownA = "A"
	ownB = "B"
	ownC = "C"
	ownP = "P"
)

var rpOwnerUser = map[string]string{ownA: "sim_s1", ownB: "sim_s2", ownC: "sim_s5"}

type rpPersona struct {
	key      string
	userid   string
	c        *apptest.Client
	perms    map[auth.Perm]bool // nil: anonymous or deactivated
	sees     map[string]bool    // owners whose records are in scope
	anon     bool
	inactive bool
	lacking  bool // holds every permission but the route's, scope all
}

func (p *rpPersona) has(perms []auth.Perm) bool {
	if p.lacking {
		return len(perms) == 0
	}
	if len(perms) == 0 {
		return true
	}
	for _, x := range perms {
		if p.perms[x] {
			return true
		}
	}
	return false
}

func builtinPerms(code string) map[auth.Perm]bool {
	for _, r := range auth.BuiltinRoles() {
		if r.Code == code {
			m := map[auth.Perm]bool{}
			for _, p := range r.Perms {
				m[p] = true
			}
			return m
		}
	}
	panic(code)
}

type rpFixture struct {
	t        *testing.T
	srv      *apptest.Server
	admin    *apptest.Client
	owners   map[string]*apptest.Client
	personas []*rpPersona
	lacking  *rpPersona
	lackRole int64
	userIDs  map[string]int64
	// recs[kind][owner] is the fixed record's id.
	recs    map[string]map[string]int64
	stages  map[string]int64
	phones  map[string]string // the fixed customers' phones
	deptIDs map[string]int64  // by name
	// shown[key][persona] is the set of owners whose markers a 2xx answer
	// held: the proof that the scan looks at real data.
	shown map[string]map[string]map[string]bool
	seq   int
	calls int
	// backupName is a finished backup, made on first need.
	backupName string
}

var rpMarker = regexp.MustCompile(`LEAK([ABCP])`)

func marker(owner, kind string) string { return "LEAK" + owner + kind }

func newRPFixture(t *testing.T, srv *apptest.Server) *rpFixture {
	f := &rpFixture{t: t, srv: srv, owners: map[string]*apptest.Client{}, userIDs: map[string]int64{},
		recs: map[string]map[string]int64{}, stages: map[string]int64{}, phones: map[string]string{}, deptIDs: map[string]int64{},
		shown: map[string]map[string]map[string]bool{}}
	f.admin = srv.Login(t, "sim_admin")
	var users struct {
		Items []struct {
			ID     int64  `json:"id"`
			UserID string `json:"userid"`
		} `json:"items"`
	}
	f.admin.Do("GET", "/api/v1/users?page_size=100", nil, &users)
	for _, u := range users.Items {
		f.userIDs[u.UserID] = u.ID
	}
	var deps struct {
		Items []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		} `json:"items"`
	}
	f.admin.Do("GET", "/api/v1/departments", nil, &deps)
	for _, d := range deps.Items {
		f.deptIDs[d.Name] = d.ID
	}
	var stages struct {
		Items []struct {
			ID   int64  `json:"id"`
			Code string `json:"code"`
			Kind string `json:"kind"`
		} `json:"items"`
	}
	f.admin.Do("GET", "/api/v1/opportunity-stages", nil, &stages)
	for _, s := range stages.Items {
		f.stages[s.Code] = s.ID
		if _, ok := f.stages[s.Kind]; !ok {
			f.stages[s.Kind] = s.ID
		}
	}
	for o, u := range rpOwnerUser {
		f.owners[o] = srv.Login(t, u)
	}
	f.owners[ownP] = srv.Login(t, "sim_s3") // releases the pool records
	// Fixed records, each carrying its owner's marker.
	for _, o := range []string{ownA, ownB, ownC} {
		f.recs2(o, "LEAK")
	}
	// And a deleted set each, for the recycle bins.
	for _, o := range []string{ownA, ownB, ownC} {
		ids := f.newSet(o, "LEAK")
		for kind, path := range map[string]string{"sale": "sales", "opportunity": "opportunities", "customer": "customers"} {
			if st := f.owners[o].Do("DELETE", fmt.Sprintf("/api/v1/%s/%d", path, ids[kind]), nil, nil); st != 204 {
				t.Fatalf("delete %s: %d", kind, st)
			}
		}
	}
	f.inbox()
	f.put("pool", ownP, f.poolCustomer("LEAK"))
	for _, o := range []string{ownA, ownB, ownC} {
		f.put("pool", o, f.recs["customer"][o]) // owned, so not in the pool
	}
	f.put("customer", ownP, f.recs["pool"][ownP])

	// Personas.
	sales, manager := builtinPerms("sales"), builtinPerms("manager")
	all := map[auth.Perm]bool{}
	for _, p := range auth.AllPerms() {
		all[p] = true
	}
	seen := func(os ...string) map[string]bool {
		m := map[string]bool{}
		for _, o := range os {
			m[o] = true
		}
		return m
	}
	f.personas = []*rpPersona{
		{key: "anonymous", anon: true, c: srv.Anonymous(t), sees: seen()},
		{key: "salesA", userid: "sim_s1", perms: sales, sees: seen(ownA)},
		{key: "salesB-same-dept", userid: "sim_s2", perms: sales, sees: seen(ownB)},
		{key: "salesC-other-dept", userid: "sim_s5", perms: sales, sees: seen(ownC)},
		{key: "managerOfA", userid: "sim_mgr1", perms: manager, sees: seen(ownA, ownB)},
		{key: "managerOther", userid: "sim_mgr2", perms: manager, sees: seen(ownC)},
		{key: "admin", userid: "sim_admin", perms: all, sees: seen(ownA, ownB, ownC)},
		{key: "deactivated", userid: "sim_s7", inactive: true, sees: seen()},
		{key: "lacking", userid: "sim_mk1", lacking: true, perms: all, sees: seen(ownA, ownB, ownC)},
	}
	for _, p := range f.personas {
		if p.userid != "" {
			p.c = srv.Login(t, p.userid)
		}
		if p.lacking {
			f.lacking = p
		}
	}
	// The deactivated person keeps a session from before; it must die.
	if st := f.admin.Do("DELETE", fmt.Sprintf("/api/v1/users/%d", f.userIDs["sim_s7"]), nil, nil); st != 204 {
		t.Fatalf("deactivate sim_s7: %d", st)
	}
	// The lacking persona's own role: scope all, permissions set per route.
	var role struct {
		ID int64 `json:"id"`
	}
	if st := f.admin.Do("POST", "/api/v1/roles", map[string]any{"name": "缺一项权限", "data_scope": "all"}, &role); st != 201 {
		t.Fatalf("create role: %d", st)
	}
	f.lackRole = role.ID
	if st := f.admin.Do("PUT", fmt.Sprintf("/api/v1/users/%d/roles", f.userIDs["sim_mk1"]), map[string]any{"role_ids": []int64{role.ID}}, nil); st != 200 {
		t.Fatalf("assign role: %d", st)
	}
	return f
}

func (f *rpFixture) put(kind, owner string, id int64) {
	if f.recs[kind] == nil {
		f.recs[kind] = map[string]int64{}
	}
	f.recs[kind][owner] = id
}

// recs2 creates owner's fixed set: a customer with a contact, a follow-up,
// an opportunity and a sale, all carrying the marker.
func (f *rpFixture) recs2(owner, prefix string) {
	ids := f.newSet(owner, prefix)
	for k, id := range ids {
		f.put(k, owner, id)
	}
}

// newSet creates a customer and one record of each kind on it, as owner.
func (f *rpFixture) newSet(owner, prefix string) map[string]int64 {
	t := f.t
	c := f.owners[owner]
	f.seq++
	m := func(kind string) string { return fmt.Sprintf("%s%s%s-%d", prefix, owner, kind, f.seq) }
	var x struct {
		ID int64 `json:"id"`
	}
	out := map[string]int64{}
	mk := func(kind, path string, body map[string]any) {
		t.Helper()
		if st := c.Do("POST", path, body, &x); st != 201 {
			t.Fatalf("create %s for %s: %d", kind, owner, st)
		}
		out[kind] = x.ID
	}
	phone := fmt.Sprintf("1390%07d", f.seq)
	if prefix == "LEAK" {
		f.phones[owner] = phone
	}
	mk("customer", "/api/v1/customers", map[string]any{"name": m("customer"), "note": m("customer-note"), "phone": phone})
	cid := out["customer"]
	mk("contact", "/api/v1/contacts", map[string]any{"customer_id": cid, "name": m("contact")})
	mk("followup", "/api/v1/followups", map[string]any{"customer_id": cid, "followed_at": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339),
		"method": "phone", "content": m("followup")})
	mk("opportunity", "/api/v1/opportunities", map[string]any{"customer_id": cid, "title": m("opportunity"), "amount_fen": 1000})
	mk("sale", "/api/v1/sales", map[string]any{"customer_id": cid, "amount_fen": 5000, "sale_date": "2026-11-01", "notes": m("sale")})
	mk("reminder", "/api/v1/reminders", map[string]any{"customer_id": cid, "remind_at": time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339),
		"content": m("reminder")})
	return out
}

// poolCustomer creates a customer as sim_s3 and releases it to the pool.
func (f *rpFixture) poolCustomer(prefix string) int64 {
	t := f.t
	c := f.owners[ownP]
	f.seq++
	var x struct {
		ID int64 `json:"id"`
	}
	if st := c.Do("POST", "/api/v1/customers", map[string]any{"name": fmt.Sprintf("%sPcustomer-%d", prefix, f.seq)}, &x); st != 201 {
		t.Fatalf("create pool customer: %d", st)
	}
	if st := c.Do("POST", fmt.Sprintf("/api/v1/customers/%d/release", x.ID), map[string]any{"reason": "测试"}, nil); st != 204 {
		t.Fatalf("release: %d", st)
	}
	return x.ID
}

// fresh makes a throwaway record of kind for owner (markers "FRESH", not
// scanned), for writes that change or remove what they touch.
func (f *rpFixture) fresh(kind, owner string) int64 {
	switch kind {
	case "pool":
		if owner == ownP {
			return f.poolCustomer("FRESH")
		}
		return f.fresh("customer", owner)
	case "customer":
		if owner == ownP {
			return f.poolCustomer("FRESH")
		}
	case "won-opportunity":
		id := f.fresh("opportunity", owner)
		if owner == ownP {
			return 0
		}
		if st := f.owners[owner].Do("POST", fmt.Sprintf("/api/v1/opportunities/%d/stage", id), map[string]any{"stage_id": f.stages["won"], "version": 1}, nil); st != 200 {
			f.t.Fatalf("win fresh opportunity: %d", st)
		}
		return id
	case "deleted-customer", "deleted-sale", "deleted-opportunity":
		base := strings.TrimPrefix(kind, "deleted-")
		id := f.fresh(base, owner)
		if id == 0 || owner == ownP {
			return id
		}
		path := map[string]string{"customer": "customers", "sale": "sales", "opportunity": "opportunities"}[base]
		if st := f.owners[owner].Do("DELETE", fmt.Sprintf("/api/v1/%s/%d", path, id), nil, nil); st != 204 {
			f.t.Fatalf("delete fresh %s: %d", base, st)
		}
		return id
	}
	if owner == ownP {
		return 0 // no pool record of this kind
	}
	return f.newSet(owner, "FRESH")[kind]
}

// ---- the table ----

type rpRoute struct {
	// perms: the caller needs one of these; none means any signed-in person.
	perms []auth.Perm
	// kind: the record kind :id names ("" for routes without a record).
	kind string
	// fresh: the route changes its record; each call gets a throwaway one.
	fresh bool
	// body builds the request body for persona p and record id.
	body func(f *rpFixture, p *rpPersona, owner string, id int64) any
	// path fills in parameters other than a record :id.
	path func(f *rpFixture, p *rpPersona) string
	// want overrides the expected status for a persona and owner.
	want func(p *rpPersona, owner string) int
	// public: reachable without a session by design, and why.
	public string
	// skip: in the table but not driven here, and why (with the test that
	// covers it instead).
	skip string
	// allowed: the statuses an allowed call answers when not 2xx (an
	// upload sent without a file answers 400 once past the checks).
	allowed []int
	// ownSession: the route ends the session; each call logs in afresh.
	ownSession bool
	// queries: each is run (a list plain and searched for the markers).
	queries []string
	// outOfScope: the statuses that count as a refusal of an out-of-scope
	// record named in the body (a create naming another's customer may
	// answer 400 on that field instead of 404).
	outOfScope []int
	// paths: concrete paths to call instead of the route's (placeholders
	// as in queries), e.g. every report type.
	paths []string
}

// rpList is how lists are read: one page large enough for every fixed
// record, a search for the markers, and filters naming another person's
// customer, owner and department (a filter must narrow the scope, never
// widen it). {custC} and the like are filled in by rpFixture.fill.
var rpList = []string{"page_size=100", "page_size=100&q=LEAK",
	"page_size=100&owner_id={userC}", "page_size=100&department_id={deptC}", "page_size=100&customer_id={custC}",
	"page_size=100&owner_id={userA}", "page_size=100&customer_id={custA}"}

// rpListNoCustomer is rpList for lists without a customer filter.
var rpListNoCustomer = []string{"page_size=100", "page_size=100&q=LEAK",
	"page_size=100&owner_id={userC}", "page_size=100&department_id={deptC}", "page_size=100&owner_id={userA}"}

func P(ps ...auth.Perm) []auth.Perm { return ps }

const (
	pCustView   auth.Perm = "customer.view"
	pCustCreate auth.Perm = "customer.create"
	pCustEdit   auth.Perm = "customer.edit"
	pCustDelete auth.Perm = "customer.delete"
	pCustExport auth.Perm = "customer.export"
	pCustImport auth.Perm = "customer.import"
	pCustAssign auth.Perm = "customer.assign"
	pCustTrans  auth.Perm = "customer.transfer"
	pCustManage auth.Perm = "customer.manage"
)

func bodyOf(v any) func(*rpFixture, *rpPersona, string, int64) any {
	return func(*rpFixture, *rpPersona, string, int64) any { return v }
}

// ---- running ----

func (f *rpFixture) expect(r rpRoute, p *rpPersona, owner string) int {
	if p.anon || p.inactive {
		return 401
	}
	if r.want != nil {
		if w := r.want(p, owner); w != 0 {
			return w
		}
	}
	if !p.has(r.perms) {
		return 403
	}
	if r.kind == "pool" {
		if owner != ownP {
			return 404 // an owned customer is not in the pool, whoever asks
		}
		return 200
	}
	if r.kind == "inbox" && p.userid != rpOwnerUser[owner] {
		return 404 // an inbox is its person's alone, whatever the role
	}
	if r.kind != "" && owner != "" && !p.sees[owner] {
		return 404
	}
	return 200
}

func (f *rpFixture) runRoute(t *testing.T, key string, r rpRoute) {
	if r.perms != nil && f.lacking != nil {
		f.setLacking(r.perms)
	}
	owners := []string{""}
	if r.kind != "" {
		owners = []string{ownA, ownB, ownC, ownP}
	}
	queries := r.queries
	if len(queries) == 0 {
		queries = []string{""}
	}
	method, path, _ := strings.Cut(key, " ")
	paths := r.paths
	if len(paths) == 0 {
		paths = []string{path}
	}
	for _, p := range f.personas {
		for _, path := range paths {
			for _, q := range queries {
				if r.kind == "filter" {
					// A filter naming an owner's person or customer ({userO},
					// {custO}) is scoped like a record; the rest are not.
					if !strings.Contains(path+q, "O}") {
						f.call(t, key, rpRoute{perms: r.perms, allowed: r.allowed}, p, "", method, path, q)
						continue
					}
					for _, owner := range []string{ownA, ownB, ownC} {
						f.call(t, key, r, p, owner, method, f.fillFor(path, owner), f.fillFor(q, owner))
					}
					continue
				}
				for _, owner := range owners {
					f.call(t, key, r, p, owner, method, f.fill(path), q)
				}
			}
		}
	}
}

// fillFor fills {userO} and {custO} with owner's person and customer.
func (f *rpFixture) fillFor(s, owner string) string {
	return strings.NewReplacer("{userO}", fmt.Sprint(f.userIDs[rpOwnerUser[owner]]),
		"{custO}", fmt.Sprint(f.recs["customer"][owner])).Replace(s)
}

func (f *rpFixture) call(t *testing.T, key string, r rpRoute, p *rpPersona, owner, method, path, query string) {
	{
		{
			var id int64
			if r.kind == "filter" {
				id = -1
			} else if r.kind != "" {
				if r.fresh {
					id = f.fresh(r.kind, owner)
				} else {
					id = f.recs[r.kind][owner]
				}
				if id == 0 {
					return
				}
			}
			u := path
			if r.path != nil {
				u = r.path(f, p)
			}
			u = strings.Replace(u, ":id", fmt.Sprint(id), 1)
			if query != "" {
				sep := "?"
				if strings.Contains(u, "?") {
					sep = "&"
				}
				u += sep + f.fill(query)
			}
			var body any
			if r.body != nil {
				body = r.body(f, p, owner, id)
			}
			c := p.c
			if r.ownSession && p.userid != "" && !p.inactive {
				c = f.srv.Login(t, p.userid)
			}
			f.calls++
			resp := c.Raw(method, u, body, nil)
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			want := f.expect(r, p, owner)
			got := resp.StatusCode
			ok := got == want || (want == 200 && got >= 200 && got < 300)
			if want == 200 && slices.Contains(r.allowed, got) {
				ok = true
			}
			if want == 404 && slices.Contains(r.outOfScope, got) {
				ok = true
			}
			if !ok {
				t.Errorf("%s (%s?%s) as %s on %s's record: %d, want %d: %.200s", key, path, query, p.key, ownerName(owner), got, want, b)
			}
			f.scan(t, key, p, got, resp.Header.Get("Content-Type"), b)
		}
	}
}

func ownerName(o string) string {
	if o == "" {
		return "no"
	}
	return o
}

// setLacking gives the lacking persona every permission but perms.
func (f *rpFixture) setLacking(perms []auth.Perm) {
	drop := map[auth.Perm]bool{}
	for _, p := range perms {
		drop[p] = true
	}
	var keep []string
	for _, p := range auth.AllPerms() {
		if !drop[p] {
			keep = append(keep, string(p))
		}
	}
	if st := f.admin.Do("PATCH", fmt.Sprintf("/api/v1/roles/%d", f.lackRole), map[string]any{"permissions": keep}, nil); st != 200 {
		f.t.Fatalf("set lacking role: %d", st)
	}
}

// scan fails when the answer holds a marker of a record outside the
// persona's scope; a refused request must hold no marker at all.
func (f *rpFixture) scan(t *testing.T, key string, p *rpPersona, status int, ctype string, b []byte) {
	text := string(b)
	if bytes.HasPrefix(b, []byte("PK")) {
		text = unzipText(b)
	}
	if bytes.HasPrefix(b, []byte("%PDF")) {
		text = pdfText(b)
	}
	for _, m := range rpMarker.FindAllStringSubmatch(text, -1) {
		o := m[1]
		refused := status >= 300
		if !refused {
			if f.shown[key] == nil {
				f.shown[key] = map[string]map[string]bool{}
			}
			if f.shown[key][p.key] == nil {
				f.shown[key][p.key] = map[string]bool{}
			}
			f.shown[key][p.key][o] = true
		}
		if refused || p.anon || p.inactive {
			t.Errorf("%s as %s (status %d): answer holds marker of %s's record", key, p.key, status, o)
			return
		}
		if o == ownP || p.lacking {
			continue // the pool is everyone's; the lacking persona sees all
		}
		if !p.sees[o] {
			t.Errorf("%s as %s: answer holds a field of %s's record (out of scope): %.300s", key, p.key, o, around(text, m[0]))
			return
		}
	}
}

func around(s, sub string) string {
	i := strings.Index(s, sub)
	lo, hi := max(0, i-120), min(len(s), i+120)
	return s[lo:hi]
}

func unzipText(b []byte) string {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return string(b)
	}
	var sb strings.Builder
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			continue
		}
		x, _ := io.ReadAll(rc)
		rc.Close()
		sb.Write(x)
	}
	return sb.String()
}

// runPublic checks the routes public by design answer without a session
// and leak nothing.
func (f *rpFixture) runPublic(t *testing.T) {
	anon := f.srv.Anonymous(t)
	for key, r := range rpTable {
		if r.public == "" || isWrite(key) {
			continue
		}
		method, path, _ := strings.Cut(key, " ")
		if r.path != nil {
			path = r.path(f, nil)
		}
		resp := anon.Raw(method, path, nil, nil)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusUnauthorized {
			t.Errorf("public %s answers 401", key)
		}
		if rpMarker.Match(b) {
			t.Errorf("public %s leaks a record marker", key)
		}
	}
}

// ---- helpers the table's bodies and paths use ----

// transferTarget is a person within p's reach to hand records to.
func (f *rpFixture) transferTarget(p *rpPersona) int64 {
	if p.userid == "sim_mgr2" {
		return f.userIDs["sim_s6"]
	}
	return f.userIDs["sim_s4"]
}

// ownCustomer is a fixed customer in p's scope to attach new records to.
func (f *rpFixture) ownCustomer(p *rpPersona) int64 {
	for _, o := range []string{ownA, ownB, ownC} {
		if p.sees[o] {
			return f.recs["customer"][o]
		}
	}
	return f.recs["customer"][ownA]
}

func (f *rpFixture) currentStages() []map[string]any {
	var out struct {
		Items []map[string]any `json:"items"`
	}
	f.admin.Do("GET", "/api/v1/opportunity-stages", nil, &out)
	var in []map[string]any
	for _, s := range out.Items {
		in = append(in, map[string]any{"id": s["id"], "code": s["code"], "name": s["name"], "probability": s["probability"], "kind": s["kind"]})
	}
	return in
}

func (f *rpFixture) poolRules() map[string]any {
	var out map[string]any
	f.admin.Do("GET", "/api/v1/pool/rules", nil, &out)
	keep := map[string]any{}
	for _, k := range []string{"max_owned", "claim_cooldown_days", "warn_days", "no_follow_days", "no_follow_days_default", "no_deal_days", "reclaim_enabled", "version"} {
		if v, ok := out[k]; ok {
			keep[k] = v
		}
	}
	return keep
}

func (f *rpFixture) optionList(list string) []map[string]any {
	var out struct {
		Items []map[string]any `json:"items"`
	}
	f.admin.Do("GET", "/api/v1/settings/options/"+list, nil, &out)
	var in []map[string]any
	for _, o := range out.Items {
		in = append(in, map[string]any{"code": o["code"], "label_zh": o["label_zh"], "label_en": o["label_en"], "active": o["active"]})
	}
	return in
}

// product is a fresh product (version 1).
func (f *rpFixture) product() int64 {
	f.seq++
	var x struct {
		ID int64 `json:"id"`
	}
	if st := f.admin.Do("POST", "/api/v1/products", map[string]any{"name": fmt.Sprint("测试产品", f.seq)}, &x); st != 201 {
		f.t.Fatalf("product: %d", st)
	}
	return x.ID
}

// newUser is a fresh person, deactivated if asked.
func (f *rpFixture) newUser(deactivated bool) int64 {
	f.seq++
	var x struct {
		ID int64 `json:"id"`
	}
	if st := f.admin.Do("POST", "/api/v1/users", f.newUserBody("临时"), &x); st != 201 {
		f.t.Fatalf("user: %d", st)
	}
	if deactivated {
		if st := f.admin.Do("DELETE", fmt.Sprintf("/api/v1/users/%d", x.ID), nil, nil); st != 204 {
			f.t.Fatalf("deactivate: %d", st)
		}
	}
	return x.ID
}

func (f *rpFixture) roleID(code string) int64 {
	var out struct {
		Items []struct {
			ID   int64  `json:"id"`
			Code string `json:"code"`
		} `json:"items"`
	}
	f.admin.Do("GET", "/api/v1/roles", nil, &out)
	for _, r := range out.Items {
		if r.Code == code {
			return r.ID
		}
	}
	f.t.Fatalf("no role %s", code)
	return 0
}

func (f *rpFixture) newRole() int64 {
	f.seq++
	var x struct {
		ID int64 `json:"id"`
	}
	if st := f.admin.Do("POST", "/api/v1/roles", map[string]any{"name": fmt.Sprint("临时角色", f.seq), "data_scope": "self"}, &x); st != 201 {
		f.t.Fatalf("role: %d", st)
	}
	return x.ID
}

func (f *rpFixture) newUserBody(name string) map[string]any {
	f.seq++
	var deps struct {
		Items []struct {
			ID int64 `json:"id"`
		} `json:"items"`
	}
	f.admin.Do("GET", "/api/v1/departments", nil, &deps)
	if len(deps.Items) == 0 {
		f.t.Fatal("no departments")
	}
	return map[string]any{"name": fmt.Sprint(name, f.seq), "mobile": fmt.Sprintf("1360%07d", f.seq),
		"department_ids": []int64{deps.Items[0].ID}, "role_ids": []int64{f.roleID("sales")}}
}

// version is a record's current version, read as the admin.
func (f *rpFixture) version(path string, id int64) int {
	var x struct {
		Version int `json:"version"`
	}
	if st := f.admin.Do("GET", fmt.Sprintf("/api/v1/%s/%d", path, id), nil, &x); st != 200 {
		return 1 // a pool record: the call is refused before the version matters
	}
	return x.Version
}

// rpMustShow are answers that must hold the markers of the records the
// persona sees: were they empty, the leak scan would prove nothing.
var rpMustShow = map[string]map[string]string{
	"GET /api/v1/customers":              {"admin": "ABC", "salesA": "A", "managerOfA": "AB", "managerOther": "C"},
	"GET /api/v1/customers/export":       {"admin": "ABC", "salesA": "A", "managerOfA": "AB", "managerOther": "C"},
	"GET /api/v1/contacts":               {"admin": "ABC", "salesA": "A", "managerOfA": "AB"},
	"GET /api/v1/contacts/export":        {"admin": "ABC", "salesA": "A", "managerOfA": "AB"},
	"GET /api/v1/followups":              {"admin": "ABC", "salesA": "A", "managerOfA": "AB"},
	"GET /api/v1/followups/export":       {"admin": "ABC", "salesA": "A", "managerOfA": "AB"},
	"GET /api/v1/sales":                  {"admin": "ABC", "salesA": "A", "managerOfA": "AB"},
	"GET /api/v1/sales/export":           {"admin": "ABC", "salesA": "A", "managerOfA": "AB"},
	"GET /api/v1/opportunities":          {"admin": "ABC", "salesA": "A", "managerOfA": "AB"},
	"GET /api/v1/opportunities/export":   {"admin": "ABC", "salesA": "A", "managerOfA": "AB"},
	"GET /api/v1/pipeline":               {"admin": "ABC", "salesA": "A"},
	"GET /api/v1/customers/:id/timeline": {"salesA": "A", "managerOfA": "AB"},
	"GET /api/v1/pool":                   {"salesA": "P", "managerOther": "P"},
	"GET /api/v1/audit":                  {"admin": "ABC"},
	"GET /api/v1/customers/:id":          {"salesA": "A", "admin": "ABC"},
}

func (f *rpFixture) checkShown(t *testing.T, engine string) {
	for key, want := range rpMustShow {
		if _, ok := rpTable[key]; !ok {
			continue
		}
		for persona, owners := range want {
			for _, o := range owners {
				if !f.shown[key][persona][string(o)] {
					t.Errorf("%s as %s shows no record of %c: the leak scan would see nothing there", key, persona, o)
				}
			}
		}
	}
}

// fill replaces the placeholders rpList uses.
func (f *rpFixture) fill(q string) string {
	r := strings.NewReplacer(
		"{custA}", fmt.Sprint(f.recs["customer"][ownA]), "{custC}", fmt.Sprint(f.recs["customer"][ownC]),
		"{userA}", fmt.Sprint(f.userIDs["sim_s1"]), "{userC}", fmt.Sprint(f.userIDs["sim_s5"]),
		"{deptC}", fmt.Sprint(f.deptIDs["销售二部"]))
	return r.Replace(q)
}

// inbox gives A, B and C one delivered reminder each (dispatched by the
// outbox as the scheduler would), so each has a marked inbox message.
func (f *rpFixture) inbox() {
	t := f.t
	at := time.Now().UTC().Add(time.Minute).Truncate(time.Second)
	for _, o := range []string{ownA, ownB, ownC} {
		body := map[string]any{"customer_id": f.recs["customer"][o], "remind_at": at.Format(time.RFC3339), "content": marker(o, "inbox")}
		if st := f.owners[o].Do("POST", "/api/v1/reminders", body, nil); st != 201 {
			t.Fatalf("reminder for the inbox: %d", st)
		}
	}
	a := f.srv.App
	d := outbox.NewDispatcher(outbox.Options{DB: a.DB, DingTalk: a.DingTalk, Quiet: outbox.Never, Location: time.UTC,
		Now: func() time.Time { return at.Add(2 * time.Minute) }, BaseURL: "http://crm.example"})
	if _, err := d.Dispatch(context.Background()); err != nil {
		t.Fatalf("dispatch: %v", err)
	}
	for _, o := range []string{ownA, ownB, ownC} {
		var in struct {
			Items []struct {
				ID int64 `json:"id"`
			} `json:"items"`
		}
		if st := f.owners[o].Do("GET", "/api/v1/inbox", nil, &in); st != 200 || len(in.Items) == 0 {
			t.Fatalf("inbox of %s: %d %+v", o, st, in)
		}
		f.put("inbox", o, in.Items[0].ID)
	}
}

// pdfText is a PDF with its Flate streams inflated, best effort: text drawn
// with a CJK font is glyph ids, not the characters, so the scan of a PDF
// only finds markers written in a simple font.
func pdfText(b []byte) string {
	var sb strings.Builder
	sb.Write(b)
	rest := b
	for {
		i := bytes.Index(rest, []byte("stream"))
		if i < 0 {
			break
		}
		rest = rest[i+len("stream"):]
		rest = bytes.TrimLeft(rest, "\r\n")
		j := bytes.Index(rest, []byte("endstream"))
		if j < 0 {
			break
		}
		if zr, err := zlib.NewReader(bytes.NewReader(rest[:j])); err == nil {
			x, _ := io.ReadAll(zr)
			sb.Write(x)
		}
		rest = rest[j+len("endstream"):]
	}
	return sb.String()
}

// checkBot asks the chat bot, as each person, for the marked customers and
// for today's work: an answer may only name records in the asker's scope.
func (f *rpFixture) checkBot(t *testing.T) {
	if f.srv.App.FakeDingTalk == nil {
		return
	}
	bot := newBotEnv(t, f.srv)
	shown := map[string]map[string]bool{}
	for _, p := range f.personas {
		if p.anon || p.lacking {
			continue
		}
		for _, text := range []string{"客户 LEAK", "客户 " + f.phones[ownC], "今日"} {
			st, replies := bot.post(botMsg{from: p.userid, text: text}, time.Now(), bot.secret)
			if st != 200 {
				t.Errorf("bot %q from %s: %d", text, p.key, st)
			}
			for _, r := range replies {
				for _, m := range rpMarker.FindAllStringSubmatch(r, -1) {
					o := m[1]
					if shown[p.key] == nil {
						shown[p.key] = map[string]bool{}
					}
					shown[p.key][o] = true
					if !p.sees[o] && o != ownP {
						t.Errorf("bot %q from %s names %s's record: %.300s", text, p.key, o, r)
					}
				}
			}
		}
	}
	// Control: the bot does find what the asker may see.
	for persona, owners := range map[string]string{"salesA": "A", "salesC-other-dept": "C", "managerOfA": "AB", "admin": "ABC"} {
		for _, o := range owners {
			if !shown[persona][string(o)] {
				t.Errorf("bot shows %s none of %c's records: the bot check would see nothing", persona, o)
			}
		}
	}
}

// checkReferences tries to point one's own records at records out of
// scope — another's customer or opportunity, another person as recipient
// or owner — and expects a refusal (4xx) every time.
func (f *rpFixture) checkReferences(t *testing.T) {
	a := f.personas[1]  // salesA
	m1 := f.personas[4] // managerOfA
	if a.key != "salesA" || m1.key != "managerOfA" {
		t.Fatal("persona order changed")
	}
	custC, oppC := f.recs["customer"][ownC], f.recs["opportunity"][ownC]
	userC := f.userIDs["sim_s5"]
	fresh := f.newSet(ownA, "FRESH")
	cases := []struct {
		who    *rpPersona
		method string
		path   string
		body   map[string]any
	}{
		{a, "PATCH", fmt.Sprintf("/api/v1/followups/%d", fresh["followup"]), map[string]any{"version": f.version("followups", fresh["followup"]), "customer_id": custC}},
		{a, "PATCH", fmt.Sprintf("/api/v1/followups/%d", fresh["followup"]), map[string]any{"version": f.version("followups", fresh["followup"]), "opportunity_id": oppC}},
		{a, "PATCH", fmt.Sprintf("/api/v1/contacts/%d", fresh["contact"]), map[string]any{"version": f.version("contacts", fresh["contact"]), "customer_id": custC}},
		{a, "PATCH", fmt.Sprintf("/api/v1/sales/%d", fresh["sale"]), map[string]any{"version": f.version("sales", fresh["sale"]), "customer_id": custC}},
		{a, "PATCH", fmt.Sprintf("/api/v1/sales/%d", fresh["sale"]), map[string]any{"version": f.version("sales", fresh["sale"]), "owner_id": userC}},
		{a, "PATCH", fmt.Sprintf("/api/v1/opportunities/%d", fresh["opportunity"]), map[string]any{"version": f.version("opportunities", fresh["opportunity"]), "customer_id": custC}},
		{a, "PATCH", fmt.Sprintf("/api/v1/opportunities/%d", fresh["opportunity"]), map[string]any{"version": f.version("opportunities", fresh["opportunity"]), "owner_id": userC}},
		{a, "PATCH", fmt.Sprintf("/api/v1/customers/%d", fresh["customer"]), map[string]any{"version": f.version("customers", fresh["customer"]), "owner_id": userC}},
		{a, "POST", "/api/v1/followups", map[string]any{"customer_id": fresh["customer"], "opportunity_id": oppC, "followed_at": "2026-11-20T02:00:00Z", "method": "phone", "content": "x"}},
		{a, "POST", "/api/v1/sales", map[string]any{"customer_id": fresh["customer"], "amount_fen": 100, "sale_date": "2026-11-02", "owner_id": userC}},
		{a, "POST", "/api/v1/opportunities", map[string]any{"customer_id": fresh["customer"], "title": "x", "owner_id": userC}},
		{a, "POST", "/api/v1/reminders", map[string]any{"customer_id": fresh["customer"], "remind_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339), "content": "x", "recipient_ids": []int64{userC}}},
		{m1, "POST", "/api/v1/reminders", map[string]any{"customer_id": fresh["customer"], "remind_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339), "content": "x", "recipient_ids": []int64{userC}}},
		{a, "POST", fmt.Sprintf("/api/v1/customers/%d/transfer", fresh["customer"]), map[string]any{"to_user_id": userC}},
		{m1, "POST", fmt.Sprintf("/api/v1/customers/%d/transfer", fresh["customer"]), map[string]any{"to_user_id": userC}},
		{m1, "POST", "/api/v1/customers/transfer", map[string]any{"customer_ids": []int64{custC}, "to_user_id": f.userIDs["sim_s2"]}},
		{m1, "POST", fmt.Sprintf("/api/v1/customers/%d/merge", fresh["customer"]), map[string]any{"from_id": custC}},
		{m1, "PUT", "/api/v1/targets", map[string]any{"items": []map[string]any{{"kind": "user", "subject_id": userC, "month": "2026-12", "amount_fen": 1}}}},
		{m1, "PUT", "/api/v1/targets", map[string]any{"items": []map[string]any{{"kind": "department", "subject_id": f.deptIDs["销售二部"], "month": "2026-12", "amount_fen": 1}}}},
	}
	for _, c := range cases {
		resp := c.who.c.Raw(c.method, c.path, c.body, nil)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Errorf("%s %s %v as %s: %d, want a refusal: %.300s", c.method, c.path, c.body, c.who.key, resp.StatusCode, b)
		}
		if rpMarker.Match(b) && strings.Contains(string(b), "LEAKC") {
			t.Errorf("%s %s as %s: the refusal names C's record: %.300s", c.method, c.path, c.who.key, b)
		}
	}
}
