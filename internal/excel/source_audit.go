package excel

import (
	"context"
	"encoding/json"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
)

// The exports of the operation log (操作日志) and the login log (登录日志):
// the lists' own filters, read through the audit service, which checks
// audit.view; the export itself needs audit.export.

const auditExport auth.Perm = "audit.export"

// AuditLister is what an operation-log export reads.
type AuditLister interface {
	List(ctx context.Context, a *auth.Actor, f audit.Filter) ([]audit.Item, int, error)
}

// AuditSource is the export of the operation log with its filter f.
func AuditSource(list AuditLister, f audit.Filter) Source {
	return &listSource[audit.Item]{
		entity: "audit_log", perm: auditExport,
		columns: []string{"auditlog.col.at", "auditlog.col.actor", "auditlog.col.action", "auditlog.col.entity",
			"auditlog.col.entity_id", "auditlog.col.entity_name", "auditlog.col.changes", "auditlog.col.ip",
			"auditlog.col.user_agent", "auditlog.col.request_id"},
		page: func(ctx context.Context, a *auth.Actor, page, size int) ([]audit.Item, int, error) {
			f.Page, f.PageSize = page, size
			return list.List(ctx, a, f)
		},
		row: func(x *audit.Item, l Locale) []string {
			changes, _ := json.Marshal(x.Changes)
			return []string{l.Time(&x.At), x.ActorName, x.Action, x.Entity, id(x.EntityID), x.EntityName,
				string(changes), x.IP, x.UserAgent, x.RequestID}
		},
		filter: summarize(map[string]string{"actor_id": id(f.ActorID), "action": f.Action, "entity": f.Entity,
			"entity_id": id(f.EntityID), "from": stamp(f.From), "to": stamp(f.To)}),
	}
}

// LoginLister is what a login-log export reads.
type LoginLister interface {
	Logins(ctx context.Context, a *auth.Actor, f audit.LoginFilter) ([]audit.Login, int, error)
}

// LoginSource is the export of the login log with its filter f.
func LoginSource(list LoginLister, f audit.LoginFilter) Source {
	return &listSource[audit.Login]{
		entity: "login_log", perm: auditExport,
		columns: []string{"auditlog.col.at", "auditlog.col.actor", "auditlog.col.result", "auditlog.col.ip",
			"auditlog.col.user_agent", "auditlog.col.method", "auditlog.col.reason"},
		page: func(ctx context.Context, a *auth.Actor, page, size int) ([]audit.Login, int, error) {
			f.Page, f.PageSize = page, size
			return list.Logins(ctx, a, f)
		},
		row: func(x *audit.Login, l Locale) []string {
			result := l.T("auditlog.result." + audit.LoginFailure)
			if x.Success {
				result = l.T("auditlog.result." + audit.LoginSuccess)
			}
			return []string{l.Time(&x.At), x.ActorName, result, x.IP, x.UserAgent, x.Method, x.Reason}
		},
		filter: summarize(map[string]string{"actor_id": id(f.ActorID), "result": f.Result,
			"from": stamp(f.From), "to": stamp(f.To)}),
	}
}
