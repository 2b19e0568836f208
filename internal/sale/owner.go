package sale

import (
	"context"
	"errors"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/errs"
)

// People builds the Actor of a person (auth.Loader); services use it to
// check a new owner: active, and where their records are filed.
type People interface {
	Load(ctx context.Context, userID int64) (*auth.Actor, error)
}

// OwnerRule says how a record is assigned: the permission needed to give
// it to someone else and the message when the caller lacks it.
type OwnerRule struct {
	Assign    auth.Perm
	CannotKey string
}

// ResolveOwner decides who a record is filed under when the caller asks for
// ownerID (the same rules as customer assignment): the caller themself is
// always allowed; anyone else needs rule.Assign, must be active and within
// the caller's own data scope. It returns the owner's Actor (for their
// main department) or a field error on "owner_id".
func ResolveOwner(ctx context.Context, people People, a *auth.Actor, rule OwnerRule, ownerID int64) (*auth.Actor, error) {
	if ownerID == a.UserID {
		return a, nil
	}
	if !a.Can(rule.Assign) {
		return nil, errs.InvalidField("owner_id", rule.CannotKey)
	}
	owner, err := people.Load(ctx, ownerID)
	if errors.Is(err, errs.ErrUnauthorized) || errors.Is(err, auth.ErrInactive) {
		return nil, errs.InvalidField("owner_id", "validation.owner_inactive")
	}
	if err != nil {
		return nil, err
	}
	if !a.Sees(owner.UserID, owner.PrimaryDeptID) {
		return nil, errs.InvalidField("owner_id", "validation.owner_out_of_scope")
	}
	return owner, nil
}

// JoinInvalid merges validation errors so a form shows every problem at
// once; any other error wins.
func JoinInvalid(errList ...error) error {
	var merged errs.Invalid
	for _, err := range errList {
		if err == nil {
			continue
		}
		var e *errs.Error
		if !errors.As(err, &e) || e.Kind != errs.KindInvalid {
			return err
		}
		for name, f := range e.Fields {
			args := []any{}
			for k, v := range f.Args {
				args = append(args, k, v)
			}
			merged.Add(name, f.Key, args...)
		}
	}
	return merged.Err()
}
