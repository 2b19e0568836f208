package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/dingcrm/crm/internal/contact"
)

// contactRoutes registers the contact endpoints on the signed-in group.
func (s *Server) contactRoutes(g *gin.RouterGroup) {
	g.GET("/contacts", s.listContacts)
	g.POST("/contacts", s.createContact)
	g.GET("/contacts/:id", s.getContact)
	g.PATCH("/contacts/:id", s.updateContact)
	g.DELETE("/contacts/:id", s.deleteContact)
}

func (s *Server) contactFilter(c *gin.Context) (contact.Filter, error) {
	p := s.params(c)
	f := contact.Filter{CustomerID: p.id("customer_id"), Q: p.str("q"), Page: p.int("page"), PageSize: p.int("page_size")}
	return f, p.err()
}

func (s *Server) listContacts(c *gin.Context) {
	f, err := s.contactFilter(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	items, total, err := s.Contacts.List(c.Request.Context(), actorOf(c), f)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, page[contact.Contact]{Items: items, Total: total, Page: max(f.Page, 1), PageSize: pageSize(f.PageSize)})
}

func (s *Server) getContact(c *gin.Context) {
	id, err := pathID(c)
	if err == nil {
		var ct *contact.Contact
		if ct, err = s.Contacts.Get(c.Request.Context(), actorOf(c), id); err == nil {
			c.JSON(http.StatusOK, ct)
			return
		}
	}
	s.fail(c, err)
}

func (s *Server) createContact(c *gin.Context) {
	var in contact.Input
	if !s.bind(c, &in) {
		return
	}
	ct, err := s.Contacts.Create(c.Request.Context(), actorOf(c), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, ct)
}

func (s *Server) updateContact(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var in contact.Input
	if !s.bind(c, &in) {
		return
	}
	ct, err := s.Contacts.Update(c.Request.Context(), actorOf(c), id, in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, ct)
}

func (s *Server) deleteContact(c *gin.Context) {
	id, err := pathID(c)
	if err == nil {
		err = s.Contacts.Delete(c.Request.Context(), actorOf(c), id)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
