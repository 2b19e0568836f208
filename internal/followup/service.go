// Package followup is follow-up records (跟进记录): when, how, what, result and next step, kept in step with the customer's last and next follow-up times.
package followup

import "github.com/dingcrm/crm/internal/store"

// Service is what handlers, jobs and the bot call. (Skeleton: filled in by
// the records issue.)
type Service struct{ db *store.DB }

// NewService wires the service.
func NewService(db *store.DB) *Service { return &Service{db: db} }
