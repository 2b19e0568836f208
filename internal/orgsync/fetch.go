package orgsync

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/dingcrm/crm/dingtalk"
)

// The full read makes the fewest calls the APIs allow (see docs/dingtalk.md,
// "Org sync"): one listsub per department (the tree has no other walk), one
// v2/user/list page per 100 direct members of each department (an empty
// department still needs its one page to show it is empty), one listadmin,
// and one department/get for the root's name (listsub never returns the
// root itself). Department managers come from the `leader` flag of the
// member listing, so no department/get per department is needed. Every API
// has its own rate limit, so the walk, the member listing and the two
// single calls run side by side: member listing starts on a department as
// soon as the walk finds it.

// fetchCounters tell the progress of a running read.
type fetchCounters struct {
	found  atomic.Int64 // departments found so far (the root included)
	listed atomic.Int64 // departments whose members are all read
	people atomic.Int64 // distinct people read
	calls  atomic.Int64 // API calls made
}

// collector gathers people across departments, de-duplicated by userid.
type collector struct {
	mu     sync.Mutex
	people map[string]*Person
	cnt    *fetchCounters
}

func (c *collector) add(deptID int64, u dingtalk.User) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.people[u.UserID]
	if p == nil {
		p = personOf(u)
		c.people[u.UserID] = p
		c.cnt.people.Add(1)
	}
	if u.Leader {
		p.Leads[deptID] = true
	}
	// A member listed in a department missing from their own list (seen
	// when the list changed between pages) still belongs there.
	if !containsID(p.DeptIDs, deptID) {
		p.DeptIDs = append(p.DeptIDs, deptID)
	}
}

// personOf converts a listed or fetched DingTalk user.
func personOf(u dingtalk.User) *Person {
	p := &Person{UserID: u.UserID, UnionID: u.UnionID, Name: u.Name, Mobile: u.Mobile, Email: u.Email,
		Title: u.Title, Avatar: u.Avatar, JobNumber: u.JobNumber, DeptIDs: append([]int64(nil), u.DeptIDs...),
		Leads: map[int64]bool{}}
	if p.Email == "" {
		p.Email = u.OrgEmail
	}
	if u.HiredDate > 0 {
		t := time.UnixMilli(u.HiredDate).UTC()
		p.HiredAt = &t
	}
	for _, l := range u.LeaderInDept {
		if l.Leader {
			p.Leads[l.DeptID] = true
		}
	}
	return p
}

func containsID(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// fetchFull reads the whole organization, counting its progress in cnt.
func (s *Service) fetchFull(ctx context.Context, cnt *fetchCounters) (*Snapshot, error) {
	g, ctx := errgroup.WithContext(ctx)
	found := newDeptQueue()
	stop := context.AfterFunc(ctx, found.close) // a failure elsewhere stops the listers
	defer stop()
	col := &collector{people: map[string]*Person{}, cnt: cnt}
	var (
		depts  []Dept
		admins []dingtalk.Admin
		root   *dingtalk.DepartmentDetail
	)
	g.Go(func() error {
		defer found.close()
		var err error
		depts, err = s.walk(ctx, found, cnt)
		return err
	})
	workers := s.opts.Workers
	for range workers {
		g.Go(func() error { return s.listMembers(ctx, found, col, cnt) })
	}
	g.Go(func() error {
		var err error
		cnt.calls.Add(1)
		admins, err = s.dt.ListAdmins(ctx)
		return wrap("list admins", err)
	})
	g.Go(func() error {
		var err error
		cnt.calls.Add(1)
		root, err = s.dt.GetDepartment(ctx, dingtalk.RootDeptID)
		return wrap("read the root department", err)
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return assemble(root, depts, col.people, admins), nil
}

func wrap(what string, err error) error {
	if err != nil {
		return fmt.Errorf("orgsync: %s: %w", what, err)
	}
	return nil
}

// walk lists the tree breadth-first from the root, one level at a time with
// the level's departments read side by side, and queues every department
// (the root first) for its member listing as soon as it is known.
func (s *Service) walk(ctx context.Context, found *deptQueue, cnt *fetchCounters) ([]Dept, error) {
	send := func(id int64) {
		cnt.found.Add(1)
		found.push(id)
	}
	send(dingtalk.RootDeptID)
	var all []Dept
	seen := map[int64]bool{dingtalk.RootDeptID: true}
	level := []int64{dingtalk.RootDeptID}
	for len(level) > 0 {
		subs, err := s.listLevel(ctx, level, cnt)
		if err != nil {
			return nil, err
		}
		var next []int64
		for i, parent := range level {
			for pos, d := range subs[i] {
				if seen[d.DeptID] {
					continue
				}
				seen[d.DeptID] = true
				all = append(all, Dept{DingTalkID: d.DeptID, ParentID: parent, Name: d.Name, Order: pos})
				next = append(next, d.DeptID)
			}
		}
		for _, id := range next {
			send(id)
		}
		level = next
	}
	return all, nil
}

// listLevel runs listsub for every department of one level, a few at once
// (the client's rate limit paces them).
func (s *Service) listLevel(ctx context.Context, level []int64, cnt *fetchCounters) ([][]dingtalk.Department, error) {
	out := make([][]dingtalk.Department, len(level))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(s.opts.Workers)
	for i, id := range level {
		g.Go(func() error {
			cnt.calls.Add(1)
			subs, err := s.dt.ListDepartments(ctx, id)
			if err != nil {
				return fmt.Errorf("orgsync: departments under %d: %w", id, err)
			}
			out[i] = subs
			return nil
		})
	}
	return out, g.Wait()
}

// listMembers pages through the direct members of each department it
// receives.
func (s *Service) listMembers(ctx context.Context, found *deptQueue, col *collector, cnt *fetchCounters) error {
	for {
		id, ok := found.pop()
		if !ok {
			return ctx.Err()
		}
		var cursor int64
		for {
			cnt.calls.Add(1)
			page, err := s.dt.ListUsers(ctx, id, cursor, dingtalk.MaxPageSize)
			if err != nil {
				return fmt.Errorf("orgsync: members of department %d: %w", id, err)
			}
			for _, u := range page.Users {
				col.add(id, u)
			}
			if !page.HasMore || page.NextCursor <= cursor {
				break
			}
			cursor = page.NextCursor
		}
		cnt.listed.Add(1)
	}
}

// deptQueue hands departments from the walk to the member listers. It is
// unbounded: the walk must never wait for the listers (a level of the tree
// may hold most departments, and the walk's next calls would stall behind
// their member listing).
type deptQueue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	ids    []int64
	closed bool
}

func newDeptQueue() *deptQueue {
	q := &deptQueue{}
	q.cond = sync.NewCond(&q.mu)
	return q
}

func (q *deptQueue) push(id int64) {
	q.mu.Lock()
	q.ids = append(q.ids, id)
	q.mu.Unlock()
	q.cond.Signal()
}

// pop waits for a department; false once the queue is closed and empty.
func (q *deptQueue) pop() (int64, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.ids) == 0 && !q.closed {
		q.cond.Wait()
	}
	if len(q.ids) == 0 {
		return 0, false
	}
	id := q.ids[0]
	q.ids = q.ids[1:]
	return id, true
}

func (q *deptQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.cond.Broadcast()
}

// assemble builds the snapshot: the root, the departments in walk order,
// the people sorted by userid with their admin levels.
func assemble(root *dingtalk.DepartmentDetail, depts []Dept, people map[string]*Person, admins []dingtalk.Admin) *Snapshot {
	snap := &Snapshot{Full: true}
	snap.Depts = append(snap.Depts, Dept{DingTalkID: dingtalk.RootDeptID, Name: root.Name})
	snap.Depts = append(snap.Depts, depts...)
	levels := map[string]int{}
	for _, a := range admins {
		levels[a.UserID] = a.SysLevel
	}
	for _, p := range people {
		p.AdminLevel = levels[p.UserID]
		snap.People = append(snap.People, *p)
	}
	sort.Slice(snap.People, func(i, j int) bool { return snap.People[i].UserID < snap.People[j].UserID })
	return snap
}
