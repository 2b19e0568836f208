package web

import (
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/dingcrm/crm/internal/errs"
)

// static serves the web app: a file when one exists, otherwise index.html
// (the app routes by hash, so this only catches stray paths). Unknown API
// paths get the JSON 404.
func (s *Server) static(c *gin.Context) {
	p := c.Request.URL.Path
	if strings.HasPrefix(p, "/api/") {
		s.fail(c, errs.NotFound("error.not_found"))
		return
	}
	if c.Request.Method != http.MethodGet && c.Request.Method != http.MethodHead {
		s.fail(c, errs.NotFound("error.not_found"))
		return
	}
	name := strings.TrimPrefix(path.Clean(p), "/")
	if name == "" {
		name = "index.html"
	}
	if st, err := fs.Stat(s.WebFiles, name); err != nil || st.IsDir() {
		name = "index.html"
	}
	if name == "index.html" {
		c.Header("Cache-Control", "no-cache")
	}
	f, err := s.WebFiles.Open(name)
	if err != nil {
		s.fail(c, errs.NotFound("error.not_found"))
		return
	}
	defer f.Close()
	rs, ok := f.(io.ReadSeeker)
	if !ok {
		s.fail(c, errs.NotFound("error.not_found"))
		return
	}
	if ct := mime.TypeByExtension(path.Ext(name)); ct != "" {
		c.Header("Content-Type", ct)
	}
	// Served directly rather than through http.FileServer, which would
	// redirect /index.html to / and loop.
	http.ServeContent(c.Writer, c.Request, name, time.Time{}, rs)
}
