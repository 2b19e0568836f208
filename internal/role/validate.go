package role

import (
	"strings"
	"unicode/utf8"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/errs"
)

// apply checks in and writes it onto r, collecting every field's problem.
// create demands a name and a scope.
func apply(r *Role, in Input, create bool) error {
	var v errs.Invalid
	if in.Name != nil || create {
		name := ""
		if in.Name != nil {
			name = strings.TrimSpace(*in.Name)
		}
		checkName(&v, name)
		r.Name = name
	}
	if in.DataScope != nil || create {
		sc := ""
		if in.DataScope != nil {
			sc = strings.TrimSpace(*in.DataScope)
		}
		switch {
		case sc == "":
			v.Add("data_scope", "validation.required")
		case !validScope(auth.Scope(sc)):
			v.Add("data_scope", "validation.not_an_option")
		}
		r.DataScope = auth.Scope(sc)
	}
	if in.Permissions != nil {
		perms, bad := normalizePerms(*in.Permissions)
		if bad != "" {
			v.Add("permissions", "role.unknown_permission", "code", bad)
		}
		r.Permissions = perms
	} else if create {
		r.Permissions = []string{}
	}
	if in.FieldPolicy != nil {
		fp := auth.FieldPolicy{}
		for f, m := range *in.FieldPolicy {
			switch {
			case !auth.ValidField(f):
				v.Add("field_policy", "role.unknown_field", "field", f)
			case !auth.ValidFieldMode(auth.FieldMode(m)):
				v.Add("field_policy", "role.unknown_field_mode", "mode", m)
			case auth.FieldMode(m) != auth.FieldVisible:
				fp[f] = auth.FieldMode(m)
			}
		}
		r.FieldPolicy = fp
	} else if create {
		r.FieldPolicy = auth.FieldPolicy{}
	}
	return v.Err()
}

func checkName(v *errs.Invalid, name string) {
	switch {
	case name == "":
		v.Add("name", "validation.required")
	case utf8.RuneCountInString(name) > maxName:
		v.Add("name", "validation.too_long", "max", maxName)
	case strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		v.Add("name", "validation.control_chars")
	}
}

func validScope(s auth.Scope) bool {
	for _, x := range auth.Scopes {
		if x == s {
			return true
		}
	}
	return false
}

// normalizePerms sorts and deduplicates codes; bad is the first code not in
// the catalogue ("" when all are valid).
func normalizePerms(codes []string) (perms []string, bad string) {
	ps := make([]auth.Perm, 0, len(codes))
	for _, c := range codes {
		if !auth.ValidPerm(auth.Perm(c)) {
			if bad == "" {
				bad = c
			}
			continue
		}
		ps = append(ps, auth.Perm(c))
	}
	return strings.Fields(auth.FormatPerms(ps)), bad
}
