package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"

	"github.com/gin-gonic/gin"
)

// The OpenAPI 3 description is hand-kept, one fragment per module under
// openapi/: core.json holds the document's frame, and every other fragment
// adds its "paths" and "components.schemas". A test checks that every
// registered route is documented.
//
//go:embed openapi/*.json
var openAPIFiles embed.FS

// buildOpenAPI merges the fragments; a path or schema defined twice is an
// error, so two modules cannot silently overwrite each other.
func buildOpenAPI() ([]byte, error) {
	var doc map[string]any
	core, err := openAPIFiles.ReadFile("openapi/core.json")
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(core, &doc); err != nil {
		return nil, fmt.Errorf("openapi: core.json: %w", err)
	}
	paths := doc["paths"].(map[string]any)
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	names, _ := fs.Glob(openAPIFiles, "openapi/*.json")
	for _, name := range names {
		if name == "openapi/core.json" {
			continue
		}
		var part struct {
			Paths      map[string]any `json:"paths"`
			Components struct {
				Schemas map[string]any `json:"schemas"`
			} `json:"components"`
		}
		b, _ := openAPIFiles.ReadFile(name)
		if err := json.Unmarshal(b, &part); err != nil {
			return nil, fmt.Errorf("openapi: %s: %w", name, err)
		}
		if err := mergeInto(paths, part.Paths, name, "path"); err != nil {
			return nil, err
		}
		if err := mergeInto(schemas, part.Components.Schemas, name, "schema"); err != nil {
			return nil, err
		}
	}
	return json.Marshal(doc)
}

func mergeInto(dst, src map[string]any, file, what string) error {
	for k, v := range src {
		if _, dup := dst[k]; dup {
			return fmt.Errorf("openapi: %s: %s %q is defined twice", file, what, k)
		}
		dst[k] = v
	}
	return nil
}

func (s *Server) openAPI(c *gin.Context) {
	c.Data(200, "application/json; charset=utf-8", s.openAPIDoc)
}
