package web

import "github.com/gin-gonic/gin"

// dealRoutes registers the deal endpoints on the signed-in group.
func (s *Server) dealRoutes(g *gin.RouterGroup) {}
