package orgsync

import (
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dingcrm/crm/internal/audit"
)

// deptChange is a department to insert (d nil) or update.
type deptChange struct {
	d       *localDept
	want    Dept
	changes map[string]audit.Change
}

// personChange is a person to insert (l nil) or update.
type personChange struct {
	l    *localPerson
	want Person
	// fields are the changed columns of users (audit form).
	fields map[string]audit.Change
	// members maps DingTalk department ids to is_manager; nil when the
	// memberships stay as they are.
	members    map[int64]bool
	moved      bool   // the set of departments changed
	role       string // role to set; "" leaves the roles alone
	reactivate bool
	adopt      bool // a hand-added person DingTalk now has (matched by mobile)
}

// plan is the difference between a snapshot and the database.
type plan struct {
	newDepts     []deptChange
	changedDepts []deptChange
	removedDepts []*localDept
	added        []*personChange
	changed      []*personChange
	deactivate   []*localPerson
	// clearMobiles are people whose mobile DingTalk now gives someone else.
	clearMobiles []int64
	sum          Summary
}

func (p *plan) empty() bool {
	return len(p.newDepts)+len(p.changedDepts)+len(p.removedDepts)+len(p.added)+len(p.changed)+
		len(p.deactivate)+len(p.clearMobiles) == 0
}

// diff compares a snapshot with the database.
func diff(snap *Snapshot, l *local) *plan {
	pl := &plan{}
	pl.sum.Departments, pl.sum.People = len(snap.Depts), len(snap.People)
	known := diffDepts(pl, snap, l)
	diffPeople(pl, snap, l, known)
	return pl
}

// diffDepts plans the departments and returns the DingTalk ids that exist
// once the plan is applied.
func diffDepts(pl *plan, snap *Snapshot, l *local) map[int64]bool {
	known := map[int64]bool{}
	for id, d := range l.depts {
		if d.RemovedAt == nil {
			known[id] = true
		}
	}
	inSnap := map[int64]bool{}
	for _, want := range snap.Depts {
		want.Name = clip(want.Name, 100)
		inSnap[want.DingTalkID] = true
		known[want.DingTalkID] = true
		d := l.depts[want.DingTalkID]
		if d == nil {
			pl.newDepts = append(pl.newDepts, deptChange{want: want})
			pl.sum.DepartmentsAdded++
			pl.sum.sample("departments_added", want.Name)
			continue
		}
		if ch := deptChanges(d, want, l); len(ch) > 0 {
			pl.changedDepts = append(pl.changedDepts, deptChange{d: d, want: want, changes: ch})
			pl.sum.DepartmentsChanged++
			pl.sum.sample("departments_changed", want.Name)
		}
	}
	removed := slices.Clone(snap.RemovedDepts)
	if snap.Full {
		for id := range l.depts {
			if !inSnap[id] {
				removed = append(removed, id)
			}
		}
	}
	slices.Sort(removed)
	for _, id := range removed {
		d := l.depts[id]
		if d == nil || d.RemovedAt != nil || inSnap[id] {
			continue
		}
		delete(known, id)
		pl.removedDepts = append(pl.removedDepts, d)
		pl.sum.DepartmentsRemoved++
		pl.sum.sample("departments_removed", d.Name)
	}
	return known
}

func deptChanges(d *localDept, want Dept, l *local) map[string]audit.Change {
	ch := map[string]audit.Change{}
	if d.Name != want.Name {
		ch["name"] = audit.Change{Old: d.Name, New: want.Name}
	}
	var parent int64
	if d.ParentID != nil {
		if p := l.deptByID[*d.ParentID]; p != nil && p.DingTalkID != nil {
			parent = *p.DingTalkID
		}
	}
	if parent != want.ParentID {
		ch["parent_dingtalk_id"] = audit.Change{Old: parent, New: want.ParentID}
	}
	if d.SortOrder != want.Order {
		ch["sort_order"] = audit.Change{Old: d.SortOrder, New: want.Order}
	}
	if d.RemovedAt != nil {
		ch["removed"] = audit.Change{Old: true, New: false}
	}
	return ch
}

// diffPeople plans the people. known are the departments that will exist.
func diffPeople(pl *plan, snap *Snapshot, l *local, known map[int64]bool) {
	inSnap := map[string]bool{}
	claimed := map[int64]bool{} // local people matched to a DingTalk person
	for i := range snap.People {
		want := normalize(snap.People[i])
		inSnap[want.UserID] = true
		lp := l.people[want.UserID]
		adopt := false
		if lp == nil && want.Mobile != "" {
			if m := l.byMobile[want.Mobile]; m != nil && m.Source == "manual" && !claimed[m.ID] {
				lp, adopt = m, true
			}
		}
		if lp != nil {
			claimed[lp.ID] = true
		}
		pc := personDiff(lp, want, l, known)
		if adopt {
			// Someone an admin added by hand: they become the DingTalk
			// person, keeping the roles the admin gave them.
			pc.adopt, pc.role = true, ""
			pc.fields["userid"] = audit.Change{Old: lp.UserID, New: want.UserID}
			pc.fields["source"] = audit.Change{Old: lp.Source, New: "dingtalk"}
		}
		if lp == nil {
			pl.added = append(pl.added, pc)
			pl.sum.PeopleAdded++
			pl.sum.sample("people_added", want.Name)
		} else if pc.any() {
			pl.changed = append(pl.changed, pc)
			countChange(&pl.sum, pc)
		}
		if lp != nil && lp.RolesManual && lp.Source == "dingtalk" {
			pl.sum.ManualRolesKept++
		}
	}
	planMobiles(pl, l, claimed)
	gone := slices.Clone(snap.Gone)
	if snap.Full {
		for id, lp := range l.people {
			if lp.Source == "dingtalk" && !inSnap[id] {
				gone = append(gone, id)
			}
		}
	}
	slices.Sort(gone)
	for _, id := range slices.Compact(gone) {
		lp := l.people[id]
		if lp == nil || lp.Source != "dingtalk" || inSnap[id] || lp.LeftAt != nil {
			continue
		}
		pl.deactivate = append(pl.deactivate, lp)
		if lp.Active {
			pl.sum.PeopleDeactivated++
			pl.sum.sample("people_deactivated", lp.Name)
		}
	}
}

func countChange(s *Summary, pc *personChange) {
	name := pc.want.Name
	// A manager flag changing (without a move) changes the person too.
	if len(pc.fields) > 0 || pc.adopt || (pc.members != nil && !pc.moved) {
		s.PeopleChanged++
		s.sample("people_changed", name)
	}
	if pc.moved {
		s.PeopleMoved++
		s.sample("people_moved", name)
	}
	if pc.reactivate {
		s.PeopleReactivated++
		s.sample("people_reactivated", name)
	}
	if pc.role != "" {
		s.RolesChanged++
		s.sample("roles_changed", name)
	}
}

func (pc *personChange) any() bool {
	return len(pc.fields) > 0 || pc.members != nil || pc.role != "" || pc.reactivate || pc.adopt
}

// personDiff compares one person (lp nil: new).
func personDiff(lp *localPerson, want Person, l *local, known map[int64]bool) *personChange {
	pc := &personChange{l: lp, want: want}
	members := map[int64]bool{}
	var mainDept int64
	for _, id := range want.DeptIDs {
		if known[id] {
			members[id] = want.Leads[id]
			if mainDept == 0 {
				mainDept = id
			}
		}
	}
	role := targetRole(want.AdminLevel, members)
	if lp == nil {
		pc.members, pc.role = members, role
		pc.fields = audit.Diff(nil, personFields(want, mainDept))
		return pc
	}
	have := map[int64]bool{}
	for id, mgr := range lp.members {
		if d := l.deptByID[id]; d != nil && d.DingTalkID != nil {
			have[*d.DingTalkID] = mgr
		}
	}
	if !maps.Equal(have, members) {
		pc.members = members
		pc.moved = !sameKeys(have, members)
	}
	var haveMain int64
	if lp.MainDeptID != nil {
		if d := l.deptByID[*lp.MainDeptID]; d != nil && d.DingTalkID != nil {
			haveMain = *d.DingTalkID
		}
	}
	pc.fields = audit.Diff(localFields(lp, haveMain), personFields(want, mainDept))
	if lp.LeftAt != nil {
		pc.reactivate = true
	}
	if !lp.RolesManual && !slices.Equal(lp.roles, []string{role}) {
		pc.role = role
	}
	return pc
}

// targetRole is the role mapping: DingTalk admins → 管理员, department
// managers → 销售经理, everyone else → 销售.
func targetRole(adminLevel int, members map[int64]bool) string {
	if adminLevel > 0 {
		return RoleAdmin
	}
	for _, mgr := range members {
		if mgr {
			return RoleManager
		}
	}
	return RoleSales
}

func sameKeys(a, b map[int64]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			return false
		}
	}
	return true
}

// personFields are the compared columns of a DingTalk person; the main
// department is named by its DingTalk id.
func personFields(p Person, mainDept int64) map[string]any {
	return map[string]any{"name": p.Name, "mobile": p.Mobile, "email": p.Email, "title": p.Title,
		"unionid": p.UnionID, "avatar": p.Avatar, "job_number": p.JobNumber, "hired_at": p.HiredAt,
		"main_department": mainDept, "admin_level": p.AdminLevel}
}

func localFields(lp *localPerson, mainDept int64) map[string]any {
	return map[string]any{"name": lp.Name, "mobile": lp.mobile(), "email": lp.Email, "title": lp.Title,
		"unionid": lp.UnionID, "avatar": lp.Avatar, "job_number": lp.JobNumber, "hired_at": lp.HiredAt,
		"main_department": mainDept, "admin_level": lp.AdminLevel}
}

// planMobiles finds local people holding a mobile DingTalk gives to someone
// else: they lose it before the others get theirs (DingTalk mobiles are
// unique, and so are ours).
func planMobiles(pl *plan, l *local, claimed map[int64]bool) {
	for _, group := range [][]*personChange{pl.added, pl.changed} {
		for _, pc := range group {
			m := pc.want.Mobile
			if m == "" || (pc.l != nil && pc.l.mobile() == m) {
				continue
			}
			if holder := l.byMobile[m]; holder != nil && (pc.l == nil || holder.ID != pc.l.ID) {
				pl.clearMobiles = append(pl.clearMobiles, holder.ID)
			}
		}
	}
	slices.Sort(pl.clearMobiles)
	pl.clearMobiles = slices.Compact(pl.clearMobiles)
}

// normalize trims a person's fields to what the columns hold.
func normalize(p Person) Person {
	p.Name = clip(strings.TrimSpace(p.Name), 100)
	p.Mobile = clip(strings.TrimSpace(p.Mobile), 20)
	p.Email = clip(strings.TrimSpace(p.Email), 200)
	p.Title = clip(strings.TrimSpace(p.Title), 100)
	p.UnionID = clip(p.UnionID, 64)
	p.Avatar = clip(p.Avatar, 500)
	p.JobNumber = clip(p.JobNumber, 64)
	if p.HiredAt != nil {
		t := p.HiredAt.UTC().Truncate(time.Millisecond)
		p.HiredAt = &t
	}
	if p.AdminLevel < 0 {
		p.AdminLevel = 0
	}
	return p
}

// clip cuts s to n characters.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
