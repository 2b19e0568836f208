package web

import "github.com/gin-gonic/gin"

// poolRoutes registers the pool endpoints on the signed-in group.
func (s *Server) poolRoutes(g *gin.RouterGroup) {}
