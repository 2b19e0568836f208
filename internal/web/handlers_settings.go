package web

import (
	"errors"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/dingcrm/crm/internal/errs"
	optlist "github.com/dingcrm/crm/internal/option"
	"github.com/dingcrm/crm/internal/settings"
)

// settingsRoutes is 系统设置: the company settings, the logo and the option
// lists. The logo is public (the login page shows it too).
func (s *Server) settingsRoutes(api, g *gin.RouterGroup) {
	api.GET("/settings/logo", s.getLogo)
	g.GET("/settings", s.getSettings)
	g.PUT("/settings", s.updateSettings)
	g.PUT("/settings/logo",
		s.withBodyLimit(settings.MaxLogoBytes+64<<10, "setting.logo_too_large", map[string]any{"max_kb": settings.MaxLogoBytes >> 10}),
		s.uploadLogo)
	g.DELETE("/settings/logo", s.deleteLogo)
	g.GET("/settings/options", s.listOptionLists)
	g.GET("/settings/options/:list", s.getOptionList)
	g.PUT("/settings/options/:list", s.replaceOptionList)
	g.POST("/settings/options/:list", s.addOption)
	g.PATCH("/settings/options/:list/:code", s.updateOption)
}

func (s *Server) getSettings(c *gin.Context) {
	out, err := s.Settings.Get(c.Request.Context(), actorOf(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) updateSettings(c *gin.Context) {
	var in settings.Input
	if !s.bind(c, &in) {
		return
	}
	out, err := s.Settings.Update(c.Request.Context(), actorOf(c), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// getLogo serves the logo; its URL carries the version, so it may be cached.
func (s *Server) getLogo(c *gin.Context) {
	ctype, data, err := s.Settings.Logo(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "public, max-age=86400")
	c.Data(http.StatusOK, ctype, data)
}

// uploadLogo takes the multipart field "file".
func (s *Server) uploadLogo(c *gin.Context) {
	_, body, err := uploadedFile(c)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.tooLarge(c, "setting.logo_too_large", map[string]any{"max_kb": settings.MaxLogoBytes >> 10})
			return
		}
		s.fail(c, errs.InvalidField("logo", "validation.required"))
		return
	}
	data, err := io.ReadAll(io.LimitReader(body, settings.MaxLogoBytes+1))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.tooLarge(c, "setting.logo_too_large", map[string]any{"max_kb": settings.MaxLogoBytes >> 10})
			return
		}
		s.fail(c, err)
		return
	}
	if data == nil {
		data = []byte{}
	}
	out, err := s.Settings.SetLogo(c.Request.Context(), actorOf(c), data)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) deleteLogo(c *gin.Context) {
	out, err := s.Settings.SetLogo(c.Request.Context(), actorOf(c), nil)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// optionListJSON is one list for the editor: both labels of each option.
type optionListJSON struct {
	List  string            `json:"list"`
	Label string            `json:"label"`
	Items []settings.Option `json:"items"`
}

func (s *Server) listOptionLists(c *gin.Context) {
	if actorOf(c) == nil {
		s.fail(c, errs.ErrUnauthorized)
		return
	}
	all, err := s.Settings.AllOptions(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]optionListJSON, 0, len(optlist.Lists))
	for _, l := range optlist.Lists {
		out = append(out, optionListJSON{List: l, Label: s.msg.T(langOf(c), "setting.list."+l, nil), Items: all[l]})
	}
	c.JSON(http.StatusOK, gin.H{"items": out})
}

func (s *Server) getOptionList(c *gin.Context) {
	items, err := s.Settings.Options(c.Request.Context(), c.Param("list"))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.renderList(c, http.StatusOK, c.Param("list"), items)
}

func (s *Server) renderList(c *gin.Context, status int, list string, items []settings.Option) {
	c.JSON(status, optionListJSON{List: list, Label: s.msg.T(langOf(c), "setting.list."+list, nil), Items: items})
}

func (s *Server) replaceOptionList(c *gin.Context) {
	var in settings.ListInput
	if !s.bind(c, &in) {
		return
	}
	items, err := s.Settings.ReplaceList(c.Request.Context(), actorOf(c), c.Param("list"), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.renderList(c, http.StatusOK, c.Param("list"), items)
}

func (s *Server) addOption(c *gin.Context) {
	var in settings.OptionInput
	if !s.bind(c, &in) {
		return
	}
	items, err := s.Settings.AddOption(c.Request.Context(), actorOf(c), c.Param("list"), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.renderList(c, http.StatusCreated, c.Param("list"), items)
}

func (s *Server) updateOption(c *gin.Context) {
	var in settings.OptionInput
	if !s.bind(c, &in) {
		return
	}
	items, err := s.Settings.UpdateOption(c.Request.Context(), actorOf(c), c.Param("list"), c.Param("code"), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.renderList(c, http.StatusOK, c.Param("list"), items)
}

// optionsIn labels a list's active options (and, with keep, the retired
// ones a record on screen still carries) in lang, for pickers.
func optionsIn(items []settings.Option, lang string) []option {
	out := make([]option, 0, len(items))
	for _, o := range items {
		if o.Active {
			out = append(out, option{Value: o.Code, Label: o.Label(lang)})
		}
	}
	return out
}

// allLabels maps every code of a list (retired too) to its label, so a
// record carrying a retired code still shows its name.
func allLabels(items []settings.Option, lang string) map[string]string {
	out := make(map[string]string, len(items))
	for _, o := range items {
		out[o.Code] = o.Label(lang)
	}
	return out
}
