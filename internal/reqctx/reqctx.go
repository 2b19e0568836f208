// Package reqctx carries the facts about the current request that the audit
// log records (client IP, request id, language) through context.Context, so
// services need no HTTP types.
package reqctx

import "context"

// Meta describes where a call came from.
type Meta struct {
	IP        string
	RequestID string
	UserAgent string
	Lang      string
}

type key struct{}

// With returns ctx carrying m.
func With(ctx context.Context, m Meta) context.Context { return context.WithValue(ctx, key{}, m) }

// From returns the Meta in ctx (zero when absent, e.g. in a cron job).
func From(ctx context.Context) Meta {
	m, _ := ctx.Value(key{}).(Meta)
	return m
}
