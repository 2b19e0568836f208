// Package product is the simple product catalogue that sales records and opportunities pick from.
package product

import "github.com/dingcrm/crm/internal/store"

// Service is what handlers, jobs and the bot call. (Skeleton: filled in by
// the records issue.)
type Service struct{ db *store.DB }

// NewService wires the service.
func NewService(db *store.DB) *Service { return &Service{db: db} }
