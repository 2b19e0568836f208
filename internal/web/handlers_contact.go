package web

import "github.com/gin-gonic/gin"

// contactRoutes registers the contact endpoints on the signed-in group.
func (s *Server) contactRoutes(g *gin.RouterGroup) {}
