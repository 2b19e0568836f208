package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/customer"
)

func (s *Server) customerFilter(c *gin.Context) (customer.Filter, error) {
	p := s.params(c)
	f := customer.Filter{
		Q: c.Query("q"), OwnerID: p.id("owner_id"), DepartmentID: p.id("department_id"),
		Level: p.str("level"), Status: p.str("status"), Source: p.str("source"), Industry: p.str("industry"),
		Tag: p.str("tag"), CreatedFrom: p.date("created_from", false), CreatedTo: p.date("created_to", true),
		NextFollowFrom: p.date("next_follow_from", false), NextFollowTo: p.date("next_follow_to", true),
		Sort: p.str("sort"), Page: p.int("page"), PageSize: p.int("page_size"), DepartmentIDs: p.ids("department_ids"),
	}
	if err := p.err(); err != nil {
		return f, err
	}
	if seg := p.str("rfm_segment"); seg != "" {
		cond, args, err := s.Reports.SegmentFilter(c.Request.Context(), seg)
		if err != nil {
			return f, err
		}
		f.SegmentCond, f.SegmentArgs = cond, args
	}
	return f, nil
}

func (s *Server) listCustomers(c *gin.Context) {
	f, err := s.customerFilter(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	items, total, err := s.Customers.List(c.Request.Context(), actorOf(c), f)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, page[customer.Customer]{Items: items, Total: total, Page: max(f.Page, 1), PageSize: pageSize(f.PageSize)})
}

func pageSize(n int) int {
	if n <= 0 {
		return 20
	}
	return n
}

func (s *Server) listDeletedCustomers(c *gin.Context) {
	f, err := s.customerFilter(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	items, total, err := s.Customers.ListDeleted(c.Request.Context(), actorOf(c), f)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, page[customer.Customer]{Items: items, Total: total, Page: max(f.Page, 1), PageSize: pageSize(f.PageSize)})
}

func (s *Server) getCustomer(c *gin.Context) {
	id, err := pathID(c)
	if err == nil {
		var cu *customer.Customer
		if cu, err = s.Customers.Get(c.Request.Context(), actorOf(c), id); err == nil {
			c.JSON(http.StatusOK, cu)
			return
		}
	}
	s.fail(c, err)
}

func (s *Server) createCustomer(c *gin.Context) {
	var in customer.Input
	if !s.bind(c, &in) {
		return
	}
	cu, err := s.Customers.Create(c.Request.Context(), actorOf(c), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, cu)
}

func (s *Server) updateCustomer(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var in customer.Input
	if !s.bind(c, &in) {
		return
	}
	cu, err := s.Customers.Update(c.Request.Context(), actorOf(c), id, in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, cu)
}

func (s *Server) deleteCustomer(c *gin.Context) {
	id, err := pathID(c)
	if err == nil {
		err = s.Customers.Delete(c.Request.Context(), actorOf(c), id)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) restoreCustomer(c *gin.Context) {
	id, err := pathID(c)
	if err == nil {
		var cu *customer.Customer
		if cu, err = s.Customers.Restore(c.Request.Context(), actorOf(c), id); err == nil {
			c.JSON(http.StatusOK, cu)
			return
		}
	}
	s.fail(c, err)
}

func (s *Server) customerTimeline(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	p := s.params(c)
	pg, size := p.int("page"), p.int("page_size")
	if err := p.err(); err != nil {
		s.fail(c, err)
		return
	}
	items, total, err := s.Customers.Timeline(c.Request.Context(), actorOf(c), id, pg, size)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, page[audit.Item]{Items: items, Total: total, Page: max(pg, 1), PageSize: pageSize(size)})
}
