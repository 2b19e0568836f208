package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/dingcrm/crm/internal/followup"
	optlist "github.com/dingcrm/crm/internal/option"
)

// followupRoutes registers the follow-up endpoints on the signed-in group.
func (s *Server) followupRoutes(g *gin.RouterGroup) {
	g.GET("/followups", s.listFollowups)
	g.POST("/followups", s.createFollowup)
	g.GET("/followups/methods", s.followupMethods)
	g.GET("/followups/:id", s.getFollowup)
	g.PATCH("/followups/:id", s.updateFollowup)
	g.DELETE("/followups/:id", s.deleteFollowup)
}

func (s *Server) followupFilter(c *gin.Context) (followup.Filter, error) {
	p := s.params(c)
	f := followup.Filter{CustomerID: p.id("customer_id"), OwnerID: p.id("owner_id"), Method: p.str("method"),
		DepartmentID: p.id("department_id"), DepartmentIDs: p.ids("department_ids"),
		From: p.date("from", false), To: p.date("to", true), Page: p.int("page"), PageSize: p.int("page_size")}
	return f, p.err()
}

func (s *Server) listFollowups(c *gin.Context) {
	f, err := s.followupFilter(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	items, total, err := s.Followups.List(c.Request.Context(), actorOf(c), f)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, page[followup.Followup]{Items: items, Total: total, Page: max(f.Page, 1), PageSize: pageSize(f.PageSize)})
}

// followupMethods lists the follow-up methods with labels in the caller's
// language (the follow-up form's choices).
func (s *Server) followupMethods(c *gin.Context) {
	items, err := s.Settings.Options(c.Request.Context(), optlist.FollowupMethods)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": optionsIn(items, langOf(c)), "labels": allLabels(items, langOf(c))})
}

func (s *Server) getFollowup(c *gin.Context) {
	id, err := pathID(c)
	if err == nil {
		var f *followup.Followup
		if f, err = s.Followups.Get(c.Request.Context(), actorOf(c), id); err == nil {
			c.JSON(http.StatusOK, f)
			return
		}
	}
	s.fail(c, err)
}

func (s *Server) createFollowup(c *gin.Context) {
	var in followup.Input
	if !s.bind(c, &in) {
		return
	}
	f, err := s.Followups.Create(c.Request.Context(), actorOf(c), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, f)
}

func (s *Server) updateFollowup(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var in followup.Input
	if !s.bind(c, &in) {
		return
	}
	f, err := s.Followups.Update(c.Request.Context(), actorOf(c), id, in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, f)
}

func (s *Server) deleteFollowup(c *gin.Context) {
	id, err := pathID(c)
	if err == nil {
		err = s.Followups.Delete(c.Request.Context(), actorOf(c), id)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
