package user

import (
	"context"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/store"
)

// Store reads and writes people, departments and roles.
type Store struct{ db *store.DB }

// NewStore returns the store.
func NewStore(db *store.DB) *Store { return &Store{db: db} }

const userCols = "SELECT u.id, u.userid, u.name, u.mobile, u.email, u.title, u.lang, u.active, u.source, u.created_at FROM users u"

// List returns a page of people and the total.
func (s *Store) List(ctx context.Context, f Filter) ([]User, int, error) {
	where := []string{"1 = 1"}
	var args []any
	if q := strings.TrimSpace(f.Q); q != "" {
		like := store.Contains(q)
		where = append(where, "(u.name LIKE ? "+store.LikeEscape+" OR u.mobile LIKE ? "+store.LikeEscape+
			" OR u.email LIKE ? "+store.LikeEscape+")")
		args = append(args, like, like, like)
	}
	if f.DepartmentID > 0 {
		where = append(where, "u.id IN (SELECT user_id FROM user_departments WHERE department_id = ?)")
		args = append(args, f.DepartmentID)
	}
	if f.Active != nil {
		where = append(where, "u.active = ?")
		args = append(args, *f.Active)
	}
	cond := " WHERE " + strings.Join(where, " AND ")
	var total int
	if err := s.db.GetContext(ctx, &total, "SELECT COUNT(*) FROM users u"+cond, args...); err != nil {
		return nil, 0, fmt.Errorf("user: count: %w", err)
	}
	out := []User{}
	err := s.db.SelectContext(ctx, &out, userCols+cond+" ORDER BY u.active DESC, u.id LIMIT ? OFFSET ?",
		append(args, f.PageSize, (f.Page-1)*f.PageSize)...)
	if err != nil {
		return nil, 0, fmt.Errorf("user: list: %w", err)
	}
	return out, total, s.fill(ctx, s.db, out)
}

// Get reads one person with departments and roles.
func (s *Store) Get(ctx context.Context, x sqlx.QueryerContext, id int64) (*User, error) {
	var u User
	err := sqlx.GetContext(ctx, x, &u, userCols+" WHERE u.id = ?", id)
	if store.IsNoRows(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("user: get %d: %w", id, err)
	}
	list := []User{u}
	if err := s.fill(ctx, x, list); err != nil {
		return nil, err
	}
	return &list[0], nil
}

// fill loads departments and roles for a page of people in two queries.
func (s *Store) fill(ctx context.Context, x sqlx.QueryerContext, users []User) error {
	if len(users) == 0 {
		return nil
	}
	ids := make([]int64, len(users))
	idx := map[int64]int{}
	for i := range users {
		ids[i] = users[i].ID
		idx[users[i].ID] = i
		users[i].Departments = []DeptRef{}
		users[i].Roles = []auth.RoleRef{}
	}
	in := store.Placeholders(len(ids))
	var depts []struct {
		UserID int64 `db:"user_id"`
		DeptRef
	}
	if err := sqlx.SelectContext(ctx, x, &depts, `SELECT ud.user_id, d.id, d.name FROM user_departments ud
		JOIN departments d ON d.id = ud.department_id WHERE ud.user_id IN (`+in+`) ORDER BY ud.is_manager DESC, d.id`,
		store.Int64Args(ids)...); err != nil {
		return fmt.Errorf("user: departments: %w", err)
	}
	for _, d := range depts {
		u := &users[idx[d.UserID]]
		u.Departments = append(u.Departments, d.DeptRef)
	}
	var roles []struct {
		UserID int64 `db:"user_id"`
		auth.RoleRef
	}
	if err := sqlx.SelectContext(ctx, x, &roles, `SELECT ur.user_id, r.id, r.code, r.name FROM user_roles ur
		JOIN roles r ON r.id = ur.role_id WHERE ur.user_id IN (`+in+`) ORDER BY r.id`, store.Int64Args(ids)...); err != nil {
		return fmt.Errorf("user: roles: %w", err)
	}
	for _, r := range roles {
		u := &users[idx[r.UserID]]
		u.Roles = append(u.Roles, r.RoleRef)
	}
	return nil
}

// Insert adds a person and returns the new id.
func (s *Store) Insert(ctx context.Context, tx *sqlx.Tx, u *User) error {
	res, err := tx.ExecContext(ctx, `INSERT INTO users (userid, name, mobile, email, title, lang, active, source,
		created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.UserID, u.Name, u.Mobile, u.Email, u.Title, u.Lang, u.Active, u.Source, u.CreatedAt, u.CreatedAt)
	if err != nil {
		return fmt.Errorf("user: insert: %w", err)
	}
	u.ID, err = res.LastInsertId()
	return err
}

// UpdateFields writes the editable fields.
func (s *Store) UpdateFields(ctx context.Context, tx *sqlx.Tx, u *User) error {
	_, err := tx.ExecContext(ctx, `UPDATE users SET name = ?, mobile = ?, email = ?, title = ?, updated_at = ?
		WHERE id = ?`, u.Name, u.Mobile, u.Email, u.Title, store.Now(), u.ID)
	if err != nil {
		return fmt.Errorf("user: update %d: %w", u.ID, err)
	}
	return nil
}

// SetActive activates or deactivates a person.
func (s *Store) SetActive(ctx context.Context, tx *sqlx.Tx, id int64, active bool) error {
	now := store.Now()
	var deactivatedAt any
	if !active {
		deactivatedAt = now
	}
	_, err := tx.ExecContext(ctx, "UPDATE users SET active = ?, deactivated_at = ?, updated_at = ? WHERE id = ?",
		active, deactivatedAt, now, id)
	if err != nil {
		return fmt.Errorf("user: set active %d: %w", id, err)
	}
	return nil
}

// SetLang saves a person's language.
func (s *Store) SetLang(ctx context.Context, id int64, lang string) error {
	_, err := s.db.ExecContext(ctx, "UPDATE users SET lang = ?, updated_at = ? WHERE id = ?", lang, store.Now(), id)
	if err != nil {
		return fmt.Errorf("user: set lang: %w", err)
	}
	return nil
}

// ReplaceDepartments sets a person's departments.
func (s *Store) ReplaceDepartments(ctx context.Context, tx *sqlx.Tx, userID int64, deptIDs []int64) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM user_departments WHERE user_id = ?", userID); err != nil {
		return fmt.Errorf("user: clear departments: %w", err)
	}
	for _, d := range deptIDs {
		if _, err := tx.ExecContext(ctx, "INSERT INTO user_departments (user_id, department_id, is_manager) VALUES (?, ?, 0)", userID, d); err != nil {
			return fmt.Errorf("user: add department: %w", err)
		}
	}
	return nil
}

// ReplaceRoles sets a person's roles.
func (s *Store) ReplaceRoles(ctx context.Context, tx *sqlx.Tx, userID int64, roleIDs []int64) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM user_roles WHERE user_id = ?", userID); err != nil {
		return fmt.Errorf("user: clear roles: %w", err)
	}
	for _, r := range roleIDs {
		if _, err := tx.ExecContext(ctx, "INSERT INTO user_roles (user_id, role_id) VALUES (?, ?)", userID, r); err != nil {
			return fmt.Errorf("user: add role: %w", err)
		}
	}
	return nil
}

// Departments lists the whole tree with member counts (active people).
func (s *Store) Departments(ctx context.Context) ([]Department, error) {
	out := []Department{}
	err := s.db.SelectContext(ctx, &out, `SELECT d.id, d.name, d.parent_id, d.dingtalk_id,
		(SELECT COUNT(*) FROM user_departments ud JOIN users u ON u.id = ud.user_id
		 WHERE ud.department_id = d.id AND u.active = 1) AS member_count
		FROM departments d WHERE d.removed_at IS NULL ORDER BY d.sort_order, d.id`)
	if err != nil {
		return nil, fmt.Errorf("user: departments: %w", err)
	}
	return out, nil
}

// Roles lists every role.
func (s *Store) Roles(ctx context.Context) ([]Role, error) {
	out := []Role{}
	if err := s.db.SelectContext(ctx, &out, "SELECT id, code, name, data_scope, permissions, builtin FROM roles ORDER BY id"); err != nil {
		return nil, fmt.Errorf("user: roles: %w", err)
	}
	for i := range out {
		out[i].Permissions = strings.Fields(out[i].RawPerms)
	}
	return out, nil
}

// countExisting returns how many of ids exist in table (departments
// removed in DingTalk do not count: nobody may be put into one).
func (s *Store) countExisting(ctx context.Context, table string, ids []int64) (int, error) {
	var n int
	live := ""
	if table == "departments" {
		live = " AND removed_at IS NULL"
	}
	err := s.db.GetContext(ctx, &n, "SELECT COUNT(*) FROM "+table+" WHERE id IN ("+store.Placeholders(len(ids))+")"+live, store.Int64Args(ids)...)
	return n, err
}

// activeAdmins counts active people holding the admin role other than id.
func (s *Store) activeAdminsExcept(ctx context.Context, tx *sqlx.Tx, id int64) (int, error) {
	var n int
	err := tx.GetContext(ctx, &n, `SELECT COUNT(DISTINCT u.id) FROM users u JOIN user_roles ur ON ur.user_id = u.id
		JOIN roles r ON r.id = ur.role_id WHERE r.code = 'admin' AND u.active = 1 AND u.id <> ?`, id)
	return n, err
}
