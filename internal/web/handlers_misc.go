package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/customer"
	optlist "github.com/dingcrm/crm/internal/option"
)

func (s *Server) listAudit(c *gin.Context) {
	p := s.params(c)
	f := audit.Filter{ActorID: p.id("actor_id"), Action: p.str("action"), Entity: p.str("entity"),
		EntityID: p.id("entity_id"), From: p.date("from", false), To: p.date("to", true),
		Page: p.int("page"), PageSize: p.int("page_size")}
	if err := p.err(); err != nil {
		s.fail(c, err)
		return
	}
	items, total, err := s.Audit.List(c.Request.Context(), actorOf(c), f)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, page[audit.Item]{Items: items, Total: total, Page: max(f.Page, 1), PageSize: pageSize(f.PageSize)})
}

type option struct {
	Value string `json:"value"`
	Label string `json:"label"`
}

// options serves the option lists with labels in the caller's language:
// the company's editable lists (active options only, in their order) and,
// under "retired", the deactivated ones ({list, value, label}) so a record
// that carries a retired code still shows its name.
func (s *Server) options(c *gin.Context) {
	lang := langOf(c)
	list := func(kind string, values []string) []option {
		out := make([]option, len(values))
		for i, v := range values {
			out[i] = option{Value: v, Label: s.msg.T(lang, "option."+kind+"."+v, nil)}
		}
		return out
	}
	scopes := make([]string, len(auth.Scopes))
	for i, sc := range auth.Scopes {
		scopes[i] = string(sc)
	}
	all, err := s.Settings.AllOptions(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	retired := []map[string]string{}
	for _, l := range optlist.Lists {
		for _, o := range all[l] {
			if !o.Active {
				retired = append(retired, map[string]string{"list": l, "value": o.Code, "label": o.Label(lang)})
			}
		}
	}
	c.JSON(http.StatusOK, gin.H{
		"sources": optionsIn(all[optlist.Sources], lang), "industries": optionsIn(all[optlist.Industries], lang),
		"levels": optionsIn(all[optlist.Levels], lang), "tags": optionsIn(all[optlist.Tags], lang),
		"followup_methods": optionsIn(all[optlist.FollowupMethods], lang),
		"lost_reasons":     optionsIn(all[optlist.LostReasons], lang),
		"statuses":         list("status", customer.Statuses),
		"data_scopes":      list("data_scope", scopes), "retired": retired,
	})
}
