package orgsync

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/dingcrm/crm/dingtalk"
)

// An event carries ids only (doc §7): what it names is read again from
// DingTalk, so applying events in any order, or twice, ends in DingTalk's
// current state. The exception is user_leave_org: the person is gone, so
// they are deactivated without a read.

// eventFetch builds the partial snapshot of one event.
type eventFetch struct {
	s      *Service
	snap   *Snapshot
	known  map[int64]bool   // departments the database has (DingTalk ids)
	depts  map[int64]Dept   // departments read for this event
	people map[string]bool  // userids read (or found gone)
	admins map[string]int   // admin levels, read once when needed
	order  map[int64][]Dept // children of a parent, read once
}

func (s *Service) fetchEvent(ctx context.Context, ev *storedEvent) (*Snapshot, error) {
	f := &eventFetch{s: s, snap: &Snapshot{}, depts: map[int64]Dept{}, people: map[string]bool{},
		order: map[int64][]Dept{}}
	if err := f.loadKnown(ctx); err != nil {
		return nil, err
	}
	var err error
	switch ev.Type {
	case dingtalk.EventUserLeave:
		f.snap.Gone = append(f.snap.Gone, ev.UserIDs...)
	case dingtalk.EventDeptRemove:
		f.snap.RemovedDepts = append(f.snap.RemovedDepts, ev.DeptIDs...)
	case dingtalk.EventDeptCreate, dingtalk.EventDeptModify:
		err = f.departments(ctx, ev.DeptIDs)
	default: // the user_* events and org_admin_add/remove
		err = f.readPeople(ctx, ev.UserIDs)
	}
	if err == nil {
		err = f.missingDepts(ctx)
	}
	if err != nil {
		return nil, err
	}
	for _, d := range f.depts {
		f.snap.Depts = append(f.snap.Depts, d)
	}
	slices.SortFunc(f.snap.Depts, func(a, b Dept) int { return int(a.DingTalkID - b.DingTalkID) })
	return f.snap, nil
}

func (f *eventFetch) loadKnown(ctx context.Context) error {
	var ids []int64
	if err := f.s.db.SelectContext(ctx, &ids, "SELECT dingtalk_id FROM departments WHERE dingtalk_id IS NOT NULL AND removed_at IS NULL"); err != nil {
		return fmt.Errorf("orgsync: read departments: %w", err)
	}
	f.known = map[int64]bool{}
	for _, id := range ids {
		f.known[id] = true
	}
	return nil
}

// readPeople reads people again (v2/user/get); one DingTalk no longer has
// is gone.
func (f *eventFetch) readPeople(ctx context.Context, ids []string) error {
	levels, err := f.adminLevels(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if id == "" || f.people[id] {
			continue
		}
		f.people[id] = true
		u, err := f.s.dt.GetUser(ctx, id)
		if errors.Is(err, dingtalk.ErrNotFound) {
			f.snap.Gone = append(f.snap.Gone, id)
			continue
		}
		if err != nil {
			return fmt.Errorf("orgsync: read person %s: %w", id, err)
		}
		p := personOf(*u)
		p.AdminLevel = levels[id]
		f.snap.People = append(f.snap.People, *p)
	}
	return nil
}

// adminLevels reads the admins once per event (listadmin is one call and
// gives the level, which v2/user/get does not).
func (f *eventFetch) adminLevels(ctx context.Context) (map[string]int, error) {
	if f.admins != nil {
		return f.admins, nil
	}
	admins, err := f.s.dt.ListAdmins(ctx)
	if err != nil {
		return nil, fmt.Errorf("orgsync: list admins: %w", err)
	}
	f.admins = map[string]int{}
	for _, a := range admins {
		f.admins[a.UserID] = a.SysLevel
	}
	return f.admins, nil
}

// departments reads created or changed departments, and the people whose
// manager flag may have changed with them: the new managers and those the
// database had.
func (f *eventFetch) departments(ctx context.Context, ids []int64) error {
	var refresh []string
	for _, id := range ids {
		d, err := f.dept(ctx, id)
		if err != nil {
			return err
		}
		if d == nil {
			continue // removed meanwhile
		}
		refresh = append(refresh, d.ManagerUserIDs...)
		var old []string
		err = f.s.db.SelectContext(ctx, &old, `SELECT u.userid FROM user_departments ud
			JOIN departments d ON d.id = ud.department_id JOIN users u ON u.id = ud.user_id
			WHERE d.dingtalk_id = ? AND ud.is_manager = 1 ORDER BY u.userid`, id)
		if err != nil {
			return fmt.Errorf("orgsync: managers of department %d: %w", id, err)
		}
		refresh = append(refresh, old...)
	}
	slices.Sort(refresh)
	return f.readPeople(ctx, slices.Compact(refresh))
}

// dept reads one department with its position among its siblings, and its
// parents the database does not know yet; nil when DingTalk has no such
// department any more.
func (f *eventFetch) dept(ctx context.Context, id int64) (*dingtalk.DepartmentDetail, error) {
	d, err := f.s.dt.GetDepartment(ctx, id)
	if errors.Is(err, dingtalk.ErrNotFound) {
		f.snap.RemovedDepts = append(f.snap.RemovedDepts, id)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("orgsync: read department %d: %w", id, err)
	}
	if id == dingtalk.RootDeptID {
		f.depts[id] = Dept{DingTalkID: id, Name: d.Name}
		return d, nil
	}
	if !f.known[d.ParentID] && !f.has(d.ParentID) {
		if _, err := f.dept(ctx, d.ParentID); err != nil {
			return nil, err
		}
	}
	// The siblings' positions come with the parent's listing; all of them
	// are taken, since a new department shifts those after it.
	siblings, err := f.children(ctx, d.ParentID)
	if err != nil {
		return nil, err
	}
	for _, sd := range siblings {
		if sd.DingTalkID == id || f.known[sd.DingTalkID] {
			f.depts[sd.DingTalkID] = sd
		}
	}
	if _, ok := f.depts[id]; !ok { // not listed under its parent (yet)
		f.depts[id] = Dept{DingTalkID: id, ParentID: d.ParentID, Name: d.Name}
	}
	return d, nil
}

func (f *eventFetch) has(id int64) bool { _, ok := f.depts[id]; return ok }

func (f *eventFetch) children(ctx context.Context, parent int64) ([]Dept, error) {
	if c, ok := f.order[parent]; ok {
		return c, nil
	}
	subs, err := f.s.dt.ListDepartments(ctx, parent)
	if err != nil {
		return nil, fmt.Errorf("orgsync: departments under %d: %w", parent, err)
	}
	out := make([]Dept, len(subs))
	for i, sd := range subs {
		out[i] = Dept{DingTalkID: sd.DeptID, ParentID: parent, Name: sd.Name, Order: i}
	}
	f.order[parent] = out
	return out, nil
}

// missingDepts reads departments the people read belong to but the
// database does not have (their org_dept_create may not be applied yet).
func (f *eventFetch) missingDepts(ctx context.Context) error {
	for _, p := range f.snap.People {
		for _, id := range p.DeptIDs {
			if f.known[id] || f.has(id) {
				continue
			}
			if _, err := f.dept(ctx, id); err != nil {
				return err
			}
		}
	}
	return nil
}
