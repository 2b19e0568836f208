package web

import "github.com/gin-gonic/gin"

// followupRoutes registers the followup endpoints on the signed-in group.
func (s *Server) followupRoutes(g *gin.RouterGroup) {}
