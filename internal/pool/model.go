package pool

import (
	"time"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/errs"
)

// Permissions the pool checks. pool.create is "claim": taking a customer
// from the pool is how a salesperson creates one there.
const (
	PermView         auth.Perm = "pool.view"
	PermClaim        auth.Perm = "pool.create"
	PermAssign       auth.Perm = "pool.assign"
	PermManage       auth.Perm = "pool.manage"
	CustomerTransfer auth.Perm = "customer.transfer"
)

// Audit actions of ownership moves; every entry carries the customer's id.
const (
	ActClaim    = "claim"
	ActAssign   = "assign"
	ActRelease  = "release"
	ActTransfer = "transfer"
	ActReclaim  = "reclaim"
)

// Why a customer is in the pool (customers.pool_cause).
const (
	CauseRelease  = "release"   // its owner or a manager released it, with a reason
	CauseNoFollow = "no_follow" // reclaimed: not followed up for the level's days
	CauseNoDeal   = "no_deal"   // reclaimed: no deal within no_deal_days
)

// MaxTransfer is the most customers one bulk transfer moves.
const MaxTransfer = 500

// Domain errors.
var (
	ErrNotInPool = errs.NotFound("pool.not_found")
	ErrTaken     = errs.Conflict("pool.taken")
	ErrChanged   = errs.Conflict("pool.changed")
	ErrRuleStale = errs.Conflict("pool.rules_stale")
)

// Item is a customer of the pool with how it got there.
type Item struct {
	customer.Customer
	PoolEnteredAt   *time.Time `json:"pool_entered_at"`
	PoolCause       string     `json:"pool_cause"`
	PoolReason      string     `json:"pool_reason"`
	FormerOwnerID   int64      `json:"former_owner_id"`
	FormerOwnerName string     `json:"former_owner_name"`
	// ClaimableFrom is set when the person asking released this customer
	// recently and may claim it again only from then on.
	ClaimableFrom *time.Time `json:"claimable_from"`
}

// poolInfo is the pool columns of one customer.
type poolInfo struct {
	ID              int64      `db:"id"`
	PoolEnteredAt   *time.Time `db:"pool_entered_at"`
	PoolCause       string     `db:"pool_cause"`
	PoolReason      string     `db:"pool_reason"`
	FormerOwnerID   int64      `db:"former_owner_id"`
	FormerOwnerName string     `db:"former_owner_name"`
}

// AssignInput is the body of an assignment from the pool.
type AssignInput struct {
	UserID *int64 `json:"user_id"`
}

// ReleaseInput is the body of a release to the pool.
type ReleaseInput struct {
	Reason *string `json:"reason"`
}

// TransferInput is the body of a transfer (批量转移); the single transfer
// takes only to_user_id.
type TransferInput struct {
	CustomerIDs []int64 `json:"customer_ids"`
	ToUserID    *int64  `json:"to_user_id"`
}

// TransferResult counts the customers moved and those the recipient
// already owned.
type TransferResult struct {
	Transferred int `json:"transferred"`
	Unchanged   int `json:"unchanged"`
}
