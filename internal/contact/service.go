// Package contact is a customer's contacts (联系人): several per customer, one primary.
package contact

import "github.com/dingcrm/crm/internal/store"

// Service is what handlers, jobs and the bot call. (Skeleton: filled in by
// the records issue.)
type Service struct{ db *store.DB }

// NewService wires the service.
func NewService(db *store.DB) *Service { return &Service{db: db} }
