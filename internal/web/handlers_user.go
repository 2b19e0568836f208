package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/dingcrm/crm/internal/user"
)

func (s *Server) listUsers(c *gin.Context) {
	p := s.params(c)
	f := user.Filter{Q: p.str("q"), DepartmentID: p.id("department_id"), Active: p.boolean("active"),
		Page: p.int("page"), PageSize: p.int("page_size")}
	if err := p.err(); err != nil {
		s.fail(c, err)
		return
	}
	items, total, err := s.Users.List(c.Request.Context(), actorOf(c), f)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, page[user.User]{Items: items, Total: total, Page: max(f.Page, 1), PageSize: pageSize(f.PageSize)})
}

func (s *Server) getUser(c *gin.Context) {
	id, err := pathID(c)
	if err == nil {
		var u *user.User
		if u, err = s.Users.Get(c.Request.Context(), actorOf(c), id); err == nil {
			c.JSON(http.StatusOK, u)
			return
		}
	}
	s.fail(c, err)
}

func (s *Server) createUser(c *gin.Context) {
	var in user.Input
	if !s.bind(c, &in) {
		return
	}
	u, err := s.Users.Create(c.Request.Context(), actorOf(c), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, u)
}

func (s *Server) updateUser(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var in user.Input
	if !s.bind(c, &in) {
		return
	}
	u, err := s.Users.Update(c.Request.Context(), actorOf(c), id, in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, u)
}

type rolesInput struct {
	RoleIDs []int64 `json:"role_ids"`
}

func (s *Server) setUserRoles(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var in rolesInput
	if !s.bind(c, &in) {
		return
	}
	u, err := s.Users.SetRoles(c.Request.Context(), actorOf(c), id, in.RoleIDs)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, u)
}

func (s *Server) deactivateUser(c *gin.Context) {
	id, err := pathID(c)
	if err == nil {
		err = s.Users.Deactivate(c.Request.Context(), actorOf(c), id)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) activateUser(c *gin.Context) {
	id, err := pathID(c)
	if err == nil {
		var u *user.User
		if u, err = s.Users.Activate(c.Request.Context(), actorOf(c), id); err == nil {
			c.JSON(http.StatusOK, u)
			return
		}
	}
	s.fail(c, err)
}

func (s *Server) listDepartments(c *gin.Context) {
	items, err := s.Users.Departments(c.Request.Context(), actorOf(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
}

func (s *Server) listRoles(c *gin.Context) {
	items, err := s.Users.Roles(c.Request.Context(), actorOf(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
}
