// Package sale is sales records (销售数据): amount, date, salesperson and line items.
package sale

import "github.com/dingcrm/crm/internal/store"

// Service is what handlers, jobs and the bot call. (Skeleton: filled in by
// the records issue.)
type Service struct{ db *store.DB }

// NewService wires the service.
func NewService(db *store.DB) *Service { return &Service{db: db} }
