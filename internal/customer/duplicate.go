package customer

import (
	"context"
	"fmt"
	"strings"
	"unicode"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/store"
)

// Duplicate detection (查重). Two live customers (the public pool included)
// may not share a phone, nor a name together with a company. Each customer
// row stores two normalized keys, phone_key and name_key, under UNIQUE
// indexes; a key is NULL when there is nothing to compare (no phone, no
// company) and for customers in the recycle bin. The database therefore
// refuses a duplicate even when two people save at the same moment, and the
// service turns that refusal into a 409 naming the existing customer as far
// as the caller may see it.

// Matches say which key collided.
const (
	MatchPhone = "phone"
	MatchName  = "name" // name and company together
)

// PhoneKey is the duplicate key of a stored (canonical) phone: its digits,
// so "021-6888 8888" and "02168888888" are the same; "" for no phone.
func PhoneKey(phone string) string { return digits(phone) }

// NameKey is the duplicate key of a customer name and company: each folded
// from full-width to half-width, lower-cased and stripped of every space,
// joined by the field separator (which no stored text contains). It is ""
// when either is empty: a personal name alone is too common to call two
// customers the same, so such customers are told apart by phone only.
func NameKey(name, company string) string {
	n, c := keyText(name), keyText(company)
	if n == "" || c == "" {
		return ""
	}
	return n + fieldSep + c
}

// keyText normalizes one field for NameKey. The migration that added the
// keys computes the same in SQL for rows that existed before it.
func keyText(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 0xFF01 && r <= 0xFF5E { // full-width ASCII variants → ASCII
			r -= 0xFEE0
		}
		if unicode.IsSpace(r) { // includes the ideographic space U+3000
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// keyArg is a key as a column value: NULL for "", so empty keys never clash.
func keyArg(k string) any {
	if k == "" {
		return nil
	}
	return k
}

// Duplicate is an existing live customer that collides with another one.
type Duplicate struct {
	Match        string `db:"-"`
	ID           int64  `db:"id"`
	Name         string `db:"name"`
	OwnerID      int64  `db:"owner_id"`
	OwnerName    string `db:"owner_name"`
	DepartmentID int64  `db:"department_id"`
	PhoneKey     string `db:"phone_key"`
	NameKey      string `db:"name_key"`
}

// DuplicateView is a Duplicate as shown to one person: the id and name only
// when the customer is within their data scope (or in the pool and they may
// view the pool); otherwise just that it exists and whose it is.
type DuplicateView struct {
	Match     string `json:"match"`
	ID        int64  `json:"id,omitempty"`
	Name      string `json:"name,omitempty"`
	OwnerName string `json:"owner_name"`
	InPool    bool   `json:"in_pool"`
	Visible   bool   `json:"visible"`
}

// FindDuplicates returns the live customers other than exceptID whose keys
// equal phoneKey or nameKey, at most a few, oldest first. Bulk writers (the
// Excel import) use it to report collisions before writing.
func (s *Store) FindDuplicates(ctx context.Context, x sqlx.QueryerContext, phoneKey, nameKey string, exceptID int64) ([]Duplicate, error) {
	var conds []string
	args := []any{exceptID}
	if phoneKey != "" {
		conds, args = append(conds, "c.phone_key = ?"), append(args, phoneKey)
	}
	if nameKey != "" {
		conds, args = append(conds, "c.name_key = ?"), append(args, nameKey)
	}
	out := []Duplicate{}
	if len(conds) == 0 {
		return out, nil
	}
	err := sqlx.SelectContext(ctx, x, &out, `SELECT c.id, c.name, c.owner_id, COALESCE(u.name, '') AS owner_name,
		c.department_id, COALESCE(c.phone_key, '') AS phone_key, COALESCE(c.name_key, '') AS name_key
		FROM customers c LEFT JOIN users u ON u.id = c.owner_id
		WHERE c.deleted_at IS NULL AND c.id <> ? AND (`+strings.Join(conds, " OR ")+`)
		ORDER BY c.id LIMIT 5`, args...)
	if err != nil {
		return nil, fmt.Errorf("customer: find duplicates: %w", err)
	}
	for i := range out {
		out[i].Match = MatchName
		if phoneKey != "" && out[i].PhoneKey == phoneKey {
			out[i].Match = MatchPhone
		}
	}
	return out, nil
}

// writeKeys stores c's duplicate keys (the phone key when phone is set, the
// name key when name is set). A clash with another live customer fails with
// the database's unique violation, which the service turns into a 409.
func (s *Store) writeKeys(ctx context.Context, x sqlx.ExecerContext, c *Customer, phone, name bool) error {
	var sets []string
	var args []any
	if phone {
		sets, args = append(sets, "phone_key = ?"), append(args, keyArg(PhoneKey(c.Phone)))
	}
	if name {
		sets, args = append(sets, "name_key = ?"), append(args, keyArg(NameKey(c.Name, c.Company)))
	}
	if len(sets) == 0 {
		return nil
	}
	_, err := x.ExecContext(ctx, "UPDATE customers SET "+strings.Join(sets, ", ")+" WHERE id = ?", append(args, c.ID)...)
	if err != nil {
		return fmt.Errorf("customer: keys %d: %w", c.ID, err)
	}
	return nil
}

// rekey refreshes c's keys after an edit (only those whose fields changed,
// so editing the note of an old duplicate that predates the keys is not
// refused) or, with changes nil, after a restore (all of them).
func (s *Service) rekey(ctx context.Context, tx *sqlx.Tx, a *auth.Actor, c *Customer, changes map[string]audit.Change) error {
	phone, name := true, true
	if changes != nil {
		_, phone = changes["phone"]
		_, n := changes["name"]
		_, co := changes["company"]
		name = n || co
	}
	if err := s.store.writeKeys(ctx, tx, c, phone, name); err != nil {
		return s.duplicateConflict(ctx, tx, a, c, err)
	}
	return nil
}

// duplicateConflict turns a unique violation while saving c into the 409 that
// names the customer it collided with; other errors pass through. It must
// see the other customer even if that was saved a moment ago: SQLite's
// write transactions run one at a time, so tx sees every commit; a MySQL
// transaction may read an older snapshot, so there the lookup runs on a
// connection of its own (a plain read, which waits for no lock).
func (s *Service) duplicateConflict(ctx context.Context, tx *sqlx.Tx, a *auth.Actor, c *Customer, err error) error {
	if !store.IsUniqueViolation(err) {
		return err
	}
	var q sqlx.QueryerContext = tx
	if s.db.Dialect == store.MySQL {
		q = s.db
	}
	dups, ferr := s.store.FindDuplicates(ctx, q, PhoneKey(c.Phone), NameKey(c.Name, c.Company), c.ID)
	if ferr != nil {
		return ferr
	}
	if len(dups) == 0 {
		return errs.Conflict("duplicate.conflict")
	}
	return DuplicateError(a, dups[0])
}

// View shows d to a.
func (d Duplicate) View(a *auth.Actor) DuplicateView {
	v := DuplicateView{Match: d.Match, OwnerName: d.OwnerName, InPool: d.OwnerID == 0}
	if v.InPool {
		v.Visible = a.Can(poolView)
	} else {
		v.Visible = a.Can(auth.CustomerView) && a.Sees(d.OwnerID, d.DepartmentID)
	}
	if v.Visible {
		v.ID, v.Name = d.ID, d.Name
	}
	return v
}

// poolView is the permission to see the public pool (whose customers have no
// owner and so fall outside every data scope).
const poolView auth.Perm = "pool.view"

// DuplicateError is the 409 for a collision with d: the message and
// error.detail.duplicate carry d's id and name only when a may see d. The
// message key is duplicate.<match>[_pool][_hidden].
func DuplicateError(a *auth.Actor, d Duplicate) error {
	v := d.View(a)
	key := "duplicate." + d.Match
	if v.InPool {
		key += "_pool"
	}
	args := map[string]any{"owner": v.OwnerName}
	if v.Visible {
		args["id"], args["name"] = v.ID, v.Name
	} else {
		key += "_hidden"
	}
	return &errs.Error{Kind: errs.KindConflict, Key: key, Args: args, Detail: map[string]any{"duplicate": v}}
}

// Duplicates is the 查重 lookup: the live customers with this phone, or with
// this name and company, as the Actor may see them.
func (s *Service) Duplicates(ctx context.Context, a *auth.Actor, phone, name, company string) ([]DuplicateView, error) {
	if err := a.Require(auth.CustomerView); err != nil {
		return nil, err
	}
	var v errs.Invalid
	phone = strings.TrimSpace(phone)
	if phone != "" {
		var ok bool
		if phone, ok = NormalizePhone(phone); !ok {
			v.Add("phone", "validation.phone")
		}
	}
	if len([]rune(name)) > maxName || len([]rune(company)) > maxCompany {
		v.Add("name", "validation.too_long", "max", maxName)
	}
	nameKey := NameKey(name, company)
	if phone == "" && nameKey == "" {
		v.Add("phone", "duplicate.query")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	dups, err := s.store.FindDuplicates(ctx, s.db, PhoneKey(phone), nameKey, 0)
	if err != nil {
		return nil, err
	}
	out := make([]DuplicateView, 0, len(dups))
	for _, d := range dups {
		out = append(out, d.View(a))
	}
	return out, nil
}
