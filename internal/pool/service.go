// Package pool is the public pool (公海): claiming, releasing, assigning, transferring and the reclaim rules.
package pool

import "github.com/dingcrm/crm/internal/store"

// Service is what handlers, jobs and the bot call. (Skeleton: filled in by
// the records issue.)
type Service struct{ db *store.DB }

// NewService wires the service.
func NewService(db *store.DB) *Service { return &Service{db: db} }
