package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/excel"
)

// auditLogRoutes is the login log (登录日志) and the exports of both logs;
// the operation log's list GET /audit is in handlers_misc.go.
func (s *Server) auditLogRoutes(g *gin.RouterGroup) {
	g.GET("/audit/logins", s.listLogins)
	g.GET("/audit/export", exportList(s, s.auditFilter, func(f audit.Filter) excel.Source {
		return excel.AuditSource(s.Audit, f)
	}))
	g.GET("/audit/logins/export", exportList(s, s.loginFilter, func(f audit.LoginFilter) excel.Source {
		return excel.LoginSource(s.Audit, f)
	}))
}

// auditFilter reads the operation log's filters (as GET /audit does).
func (s *Server) auditFilter(c *gin.Context) (audit.Filter, error) {
	p := s.params(c)
	f := audit.Filter{ActorID: p.id("actor_id"), Action: p.str("action"), Entity: p.str("entity"),
		EntityID: p.id("entity_id"), From: p.date("from", false), To: p.date("to", true),
		Page: p.int("page"), PageSize: p.int("page_size")}
	return f, p.err()
}

// loginFilter reads the login log's filters: actor_id, result
// (success|failure), from, to and the page.
func (s *Server) loginFilter(c *gin.Context) (audit.LoginFilter, error) {
	p := s.params(c)
	f := audit.LoginFilter{ActorID: p.id("actor_id"), Result: p.str("result"), From: p.date("from", false),
		To: p.date("to", true), Page: p.int("page"), PageSize: p.int("page_size")}
	return f, p.err()
}

func (s *Server) listLogins(c *gin.Context) {
	f, err := s.loginFilter(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	items, total, err := s.Audit.Logins(c.Request.Context(), actorOf(c), f)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, page[audit.Login]{Items: items, Total: total, Page: max(f.Page, 1), PageSize: pageSize(f.PageSize)})
}
