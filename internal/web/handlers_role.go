package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/dingcrm/crm/internal/role"
)

// roleRoutes is 权限管理 (the list GET /roles is with the users' routes)
// and, as the other half of the settings pages, the login log and the log
// exports.
func (s *Server) roleRoutes(g *gin.RouterGroup) {
	g.GET("/roles/catalog", s.roleCatalog)
	g.POST("/roles", s.createRole)
	g.GET("/roles/:id", s.getRole)
	g.PATCH("/roles/:id", s.updateRole)
	g.DELETE("/roles/:id", s.deleteRole)
	g.POST("/roles/:id/copy", s.copyRole)
	s.auditLogRoutes(g)
}

type labeled struct {
	Code  string `json:"code"`
	Label string `json:"label"`
}

// roleCatalog answers the matrix's rows (modules), columns (actions) and
// the data scopes, labelled in the caller's language.
func (s *Server) roleCatalog(c *gin.Context) {
	cat, err := s.Roles.Catalog(c.Request.Context(), actorOf(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	lang := langOf(c)
	label := func(prefix string, codes []string) []labeled {
		out := make([]labeled, len(codes))
		for i, code := range codes {
			out[i] = labeled{Code: code, Label: s.msg.T(lang, prefix+code, nil)}
		}
		return out
	}
	scopes := make([]string, len(cat.Scopes))
	for i, sc := range cat.Scopes {
		scopes[i] = string(sc)
	}
	modes := make([]string, len(cat.Modes))
	for i, m := range cat.Modes {
		modes[i] = string(m)
	}
	c.JSON(http.StatusOK, gin.H{"modules": label("role.module.", cat.Modules),
		"actions": label("role.action.", cat.Actions), "scopes": label("option.data_scope.", scopes),
		"fields": label("role.field.", cat.Fields), "field_modes": label("role.field_mode.", modes)})
}

func (s *Server) getRole(c *gin.Context) {
	id, err := pathID(c)
	if err == nil {
		var r *role.Role
		if r, err = s.Roles.Get(c.Request.Context(), actorOf(c), id); err == nil {
			c.JSON(http.StatusOK, r)
			return
		}
	}
	s.fail(c, err)
}

func (s *Server) createRole(c *gin.Context) {
	var in role.Input
	if !s.bind(c, &in) {
		return
	}
	r, err := s.Roles.Create(c.Request.Context(), actorOf(c), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, r)
}

func (s *Server) updateRole(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var in role.Input
	if !s.bind(c, &in) {
		return
	}
	r, err := s.Roles.Update(c.Request.Context(), actorOf(c), id, in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, r)
}

func (s *Server) copyRole(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var in role.CopyInput
	if !s.bind(c, &in) {
		return
	}
	r, err := s.Roles.Copy(c.Request.Context(), actorOf(c), id, in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, r)
}

func (s *Server) deleteRole(c *gin.Context) {
	id, err := pathID(c)
	if err == nil {
		err = s.Roles.Delete(c.Request.Context(), actorOf(c), id)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
