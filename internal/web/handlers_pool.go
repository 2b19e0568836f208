package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/pool"
)

// poolRoutes registers the pool endpoints on the signed-in group, and the
// customer moves and duplicate handling that go with them.
func (s *Server) poolRoutes(g *gin.RouterGroup) {
	g.GET("/pool", s.listPool)
	g.GET("/pool/rules", s.getPoolRules)
	g.PUT("/pool/rules", s.setPoolRules)
	g.GET("/pool/:id", s.getPoolCustomer)
	g.POST("/pool/:id/claim", s.claimCustomer)
	g.POST("/pool/:id/assign", s.assignCustomer)
	g.POST("/customers/:id/release", s.releaseCustomer)
	g.POST("/customers/:id/transfer", s.transferCustomer)
	g.POST("/customers/transfer", s.transferCustomers)
	g.GET("/customers/duplicates", s.findDuplicates)
	g.POST("/customers/:id/merge", s.mergeCustomer)
}

func (s *Server) listPool(c *gin.Context) {
	f, err := s.customerFilter(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	items, total, err := s.Pool.List(c.Request.Context(), actorOf(c), f)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, page[pool.Item]{Items: items, Total: total, Page: max(f.Page, 1), PageSize: pageSize(f.PageSize)})
}

func (s *Server) getPoolCustomer(c *gin.Context) {
	id, err := pathID(c)
	if err == nil {
		var it *pool.Item
		if it, err = s.Pool.Get(c.Request.Context(), actorOf(c), id); err == nil {
			c.JSON(http.StatusOK, it)
			return
		}
	}
	s.fail(c, err)
}

func (s *Server) claimCustomer(c *gin.Context) {
	id, err := pathID(c)
	if err == nil {
		var cu *customer.Customer
		if cu, err = s.Pool.Claim(c.Request.Context(), actorOf(c), id); err == nil {
			c.JSON(http.StatusOK, cu)
			return
		}
	}
	s.fail(c, err)
}

func (s *Server) assignCustomer(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var in pool.AssignInput
	if !s.bind(c, &in) {
		return
	}
	cu, err := s.Pool.Assign(c.Request.Context(), actorOf(c), id, in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, cu)
}

func (s *Server) releaseCustomer(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var in pool.ReleaseInput
	if !s.bind(c, &in) {
		return
	}
	if err := s.Pool.Release(c.Request.Context(), actorOf(c), id, in); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// transferOneInput is the single transfer's body.
type transferOneInput struct {
	ToUserID *int64 `json:"to_user_id"`
}

func (s *Server) transferCustomer(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var in transferOneInput
	if !s.bind(c, &in) {
		return
	}
	res, err := s.Pool.TransferOne(c.Request.Context(), actorOf(c), id, in.ToUserID)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, res)
}

func (s *Server) transferCustomers(c *gin.Context) {
	var in pool.TransferInput
	if !s.bind(c, &in) {
		return
	}
	res, err := s.Pool.Transfer(c.Request.Context(), actorOf(c), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, res)
}

func (s *Server) getPoolRules(c *gin.Context) {
	r, err := s.Pool.Rules(c.Request.Context(), actorOf(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, r)
}

func (s *Server) setPoolRules(c *gin.Context) {
	var in pool.RulesInput
	if !s.bind(c, &in) {
		return
	}
	r, err := s.Pool.SetRules(c.Request.Context(), actorOf(c), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, r)
}

func (s *Server) findDuplicates(c *gin.Context) {
	items, err := s.Customers.Duplicates(c.Request.Context(), actorOf(c), c.Query("phone"), c.Query("name"), c.Query("company"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
}

func (s *Server) mergeCustomer(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var in customer.MergeInput
	if !s.bind(c, &in) {
		return
	}
	res, err := s.Customers.Merge(c.Request.Context(), actorOf(c), id, in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, res)
}
