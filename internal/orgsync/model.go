// Package orgsync keeps the CRM's people and departments in step with the
// DingTalk organization.
//
// A full sync reads the whole organization (the department tree
// breadth-first from the root, every department's members page by page,
// the admins), compares it with the database and applies the difference in
// one transaction: departments added, renamed, moved or removed; people
// added, changed, moved between departments, deactivated or back again;
// roles mapped from DingTalk (admins → 管理员, department managers → 销售经理,
// everyone else → 销售) unless an admin set someone's roles by hand. A
// second sync of an unchanged organization writes nothing.
//
// Contact events (user_add_org, org_dept_modify, …) go through the same
// diff on the part of the organization they name: the callback stores the
// event once per event id and answers at once; a worker re-reads those
// people and departments from DingTalk and applies them.
//
// When someone leaves, their sessions end in the transaction that
// deactivates them, and their customers and open opportunities are handed
// to their main department's manager (or the customers to the public pool),
// each move audited, nothing deleted.
package orgsync

import (
	"time"

	"github.com/dingcrm/crm/internal/errs"
)

// Role codes of the built-in roles the mapping assigns.
const (
	RoleAdmin   = "admin"
	RoleManager = "manager"
	RoleSales   = "sales"
)

// Where a leaver's customers go (config dingtalk.leaver_customers).
const (
	LeaverToManager = "manager"
	LeaverToPool    = "pool"
)

// Sync statuses and phases.
const (
	StatusRunning     = "running"
	StatusDone        = "done"
	StatusFailed      = "failed"
	StatusInterrupted = "interrupted"

	PhaseStart       = "start"
	PhaseDepartments = "departments" // walking the tree and listing members
	PhaseApply       = "apply"       // writing the difference
	PhaseHandoff     = "handoff"     // handing leavers' customers over
	PhaseDone        = "done"
)

// Origins of a sync.
const (
	OriginWeb     = "web"
	OriginCLI     = "cli"
	OriginStartup = "startup"
)

// Domain errors.
var (
	ErrSyncRunning  = errs.Conflict("orgsync.running")
	ErrSyncNotFound = errs.NotFound("orgsync.not_found")
	// ErrTooManyLeavers stops a sync that would deactivate more than half of
	// the people (an app whose visibility scope shrank, say) unless forced.
	ErrTooManyLeavers = errs.Conflict("orgsync.too_many_leavers")
	ErrNotDingTalk    = errs.Conflict("orgsync.not_dingtalk_user")
	// ErrNoAdminLeft stops a sync that would leave the CRM without an
	// active administrator (who else could fix it?).
	ErrNoAdminLeft = errs.Conflict("orgsync.no_admin_left")
)

// Dept is a department as DingTalk reports it.
type Dept struct {
	DingTalkID int64
	ParentID   int64 // DingTalk id of the parent; 0 for the root
	Name       string
	Order      int // position among its siblings, as listsub orders them
}

// Person is a person as DingTalk reports them.
type Person struct {
	UserID    string
	UnionID   string
	Name      string
	Mobile    string
	Email     string
	Title     string
	Avatar    string
	JobNumber string
	HiredAt   *time.Time
	// DeptIDs are DingTalk department ids in DingTalk's order; the first is
	// the main department.
	DeptIDs []int64
	// Leads are the departments (DingTalk ids) this person manages (主管).
	Leads map[int64]bool
	// AdminLevel: 1 main admin, 2 sub-admin, 0 none.
	AdminLevel int
}

// Snapshot is what was read from DingTalk: the whole organization (Full) or,
// for an event, the departments and people it names.
type Snapshot struct {
	Full   bool
	Depts  []Dept
	People []Person
	// Gone are userids known to have left (user_leave_org, or not found
	// when re-read). A full snapshot leaves out everyone who left instead.
	Gone []string
	// RemovedDepts are DingTalk ids of departments removed (org_dept_remove).
	RemovedDepts []int64
}

// Summary counts what a sync or an event changed.
type Summary struct {
	DepartmentsAdded   int `json:"departments_added"`
	DepartmentsChanged int `json:"departments_changed"`
	DepartmentsRemoved int `json:"departments_removed"`
	PeopleAdded        int `json:"people_added"`
	PeopleChanged      int `json:"people_changed"`
	PeopleMoved        int `json:"people_moved"`
	PeopleDeactivated  int `json:"people_deactivated"`
	PeopleReactivated  int `json:"people_reactivated"`
	RolesChanged       int `json:"roles_changed"`
	// ManualRolesKept counts people whose hand-set roles the mapping left alone.
	ManualRolesKept int `json:"manual_roles_kept"`
	// CustomersHandedOver and OpportunitiesHandedOver count leavers' records moved.
	CustomersHandedOver     int `json:"customers_handed_over"`
	OpportunitiesHandedOver int `json:"opportunities_handed_over"`
	// Departments and People are the organization's size as read.
	Departments int `json:"departments"`
	People      int `json:"people"`
	// Calls are the DingTalk API calls made.
	Calls int `json:"calls"`
	// ReadMS and WriteMS are the milliseconds spent reading DingTalk and
	// writing the difference (with the handovers).
	ReadMS  int64 `json:"read_ms"`
	WriteMS int64 `json:"write_ms"`
	// Samples name up to a few departments and people per kind of change,
	// e.g. {"people_added": ["王芳", …]}.
	Samples map[string][]string `json:"samples"`
}

// maxSamples is how many names each kind of change keeps in a Summary.
const maxSamples = 20

func (s *Summary) sample(kind, name string) {
	if s.Samples == nil {
		s.Samples = map[string][]string{}
	}
	if len(s.Samples[kind]) < maxSamples {
		s.Samples[kind] = append(s.Samples[kind], name)
	}
}

// Changed reports whether anything was written.
func (s *Summary) Changed() bool {
	return s.DepartmentsAdded+s.DepartmentsChanged+s.DepartmentsRemoved+s.PeopleAdded+s.PeopleChanged+
		s.PeopleMoved+s.PeopleDeactivated+s.PeopleReactivated+s.RolesChanged+s.CustomersHandedOver+
		s.OpportunitiesHandedOver > 0
}

// Sync is one full sync as the history shows it.
type Sync struct {
	ID        int64  `json:"id" db:"id"`
	Origin    string `json:"origin" db:"origin"`
	StartedBy int64  `json:"started_by" db:"started_by"`
	// StartedByName names the admin who started it (kept after they leave).
	StartedByName string     `json:"started_by_name" db:"started_by_name"`
	Status        string     `json:"status" db:"status"`
	Phase         string     `json:"phase" db:"phase"`
	Done          int        `json:"done" db:"done"`
	Total         int        `json:"total" db:"total"`
	Calls         int        `json:"calls" db:"calls"`
	Summary       *Summary   `json:"summary" db:"-"`
	RawSummary    string     `json:"-" db:"summary"`
	Error         string     `json:"error" db:"error"`
	StartedAt     time.Time  `json:"started_at" db:"started_at"`
	UpdatedAt     time.Time  `json:"updated_at" db:"updated_at"`
	FinishedAt    *time.Time `json:"finished_at" db:"finished_at"`
}

// Progress is a running sync's position, reported to a progress bar.
type Progress struct {
	Phase string
	Done  int
	Total int
	// People is how many distinct people were read so far.
	People int
}
