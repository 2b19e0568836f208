package web

import (
	_ "embed"

	"github.com/gin-gonic/gin"
)

// openAPIDoc is the hand-kept OpenAPI 3 description of the API; a test
// checks that every registered route is in it.
//
//go:embed openapi.json
var openAPIDoc []byte

func (s *Server) openAPI(c *gin.Context) {
	c.Data(200, "application/json; charset=utf-8", openAPIDoc)
}
