package web

import "github.com/gin-gonic/gin"

// excelRoutes registers the excel endpoints on the signed-in group.
func (s *Server) excelRoutes(g *gin.RouterGroup) {}
