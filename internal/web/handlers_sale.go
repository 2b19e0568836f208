package web

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/product"
	"github.com/dingcrm/crm/internal/sale"
)

// saleRoutes registers the product catalogue and the sales records.
func (s *Server) saleRoutes(g *gin.RouterGroup) {
	g.GET("/products", s.listProducts)
	g.POST("/products", s.createProduct)
	g.GET("/products/:id", s.getProduct)
	g.PATCH("/products/:id", s.updateProduct)

	g.GET("/sales", s.listSales)
	g.POST("/sales", s.createSale)
	g.GET("/sales/:id", s.getSale)
	g.PATCH("/sales/:id", s.updateSale)
	g.DELETE("/sales/:id", s.deleteSale)
	g.POST("/sales/:id/restore", s.restoreSale)
	g.GET("/recycle-bin/sales", s.listDeletedSales)
}

func (s *Server) listProducts(c *gin.Context) {
	p := s.params(c)
	f := product.Filter{Q: c.Query("q"), Active: p.boolean("active"), Page: p.int("page"), PageSize: p.int("page_size")}
	if err := p.err(); err != nil {
		s.fail(c, err)
		return
	}
	items, total, err := s.Products.List(c.Request.Context(), actorOf(c), f)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, page[product.Product]{Items: items, Total: total, Page: max(f.Page, 1), PageSize: pageSize(f.PageSize)})
}

func (s *Server) getProduct(c *gin.Context) {
	id, err := pathID(c)
	if err == nil {
		var p *product.Product
		if p, err = s.Products.Get(c.Request.Context(), actorOf(c), id); err == nil {
			c.JSON(http.StatusOK, p)
			return
		}
	}
	s.fail(c, err)
}

func (s *Server) createProduct(c *gin.Context) {
	var in product.Input
	if !s.bind(c, &in) {
		return
	}
	p, err := s.Products.Create(c.Request.Context(), actorOf(c), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, p)
}

func (s *Server) updateProduct(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var in product.Input
	if !s.bind(c, &in) {
		return
	}
	p, err := s.Products.Update(c.Request.Context(), actorOf(c), id, in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, p)
}

// salePage is a page of sales with the totals of the whole filtered set.
type salePage struct {
	page[sale.Sale]
	Totals sale.Totals `json:"totals"`
}

func (s *Server) saleFilter(c *gin.Context) (sale.Filter, error) {
	p := s.params(c)
	f := sale.Filter{CustomerID: p.id("customer_id"), OwnerID: p.id("owner_id"), DepartmentID: p.id("department_id"),
		ProductID: p.id("product_id"), DepartmentIDs: p.ids("department_ids"), Source: p.str("source"), From: p.str("from"), To: p.str("to"), Page: p.int("page"), PageSize: p.int("page_size")}
	return f, p.err()
}

func (s *Server) listSales(c *gin.Context)        { s.renderSales(c, s.Sales.List) }
func (s *Server) listDeletedSales(c *gin.Context) { s.renderSales(c, s.Sales.ListDeleted) }

func (s *Server) renderSales(c *gin.Context, list func(context.Context, *auth.Actor, sale.Filter) ([]sale.Sale, sale.Totals, error)) {
	f, err := s.saleFilter(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	items, totals, err := list(c.Request.Context(), actorOf(c), f)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, salePage{page: page[sale.Sale]{Items: items, Total: totals.Count, Page: max(f.Page, 1),
		PageSize: pageSize(f.PageSize)}, Totals: totals})
}

func (s *Server) getSale(c *gin.Context) {
	id, err := pathID(c)
	if err == nil {
		var sl *sale.Sale
		if sl, err = s.Sales.Get(c.Request.Context(), actorOf(c), id); err == nil {
			c.JSON(http.StatusOK, sl)
			return
		}
	}
	s.fail(c, err)
}

func (s *Server) createSale(c *gin.Context) {
	var in sale.Input
	if !s.bind(c, &in) {
		return
	}
	sl, err := s.Sales.Create(c.Request.Context(), actorOf(c), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, sl)
}

func (s *Server) updateSale(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var in sale.Input
	if !s.bind(c, &in) {
		return
	}
	sl, err := s.Sales.Update(c.Request.Context(), actorOf(c), id, in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, sl)
}

func (s *Server) deleteSale(c *gin.Context) {
	id, err := pathID(c)
	if err == nil {
		err = s.Sales.Delete(c.Request.Context(), actorOf(c), id)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) restoreSale(c *gin.Context) {
	id, err := pathID(c)
	if err == nil {
		var sl *sale.Sale
		if sl, err = s.Sales.Restore(c.Request.Context(), actorOf(c), id); err == nil {
			c.JSON(http.StatusOK, sl)
			return
		}
	}
	s.fail(c, err)
}
