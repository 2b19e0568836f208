package web

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/dingcrm/crm/internal/deal"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/i18n"
	optlist "github.com/dingcrm/crm/internal/option"
)

// dealRoutes registers opportunities, the company's stages and the pipeline.
func (s *Server) dealRoutes(g *gin.RouterGroup) {
	g.GET("/opportunity-stages", s.listStages)
	g.PUT("/opportunity-stages", s.replaceStages)

	g.GET("/opportunities", s.listOpportunities)
	g.POST("/opportunities", s.createOpportunity)
	g.GET("/opportunities/:id", s.getOpportunity)
	g.PATCH("/opportunities/:id", s.updateOpportunity)
	g.DELETE("/opportunities/:id", s.deleteOpportunity)
	g.POST("/opportunities/:id/stage", s.moveOpportunity)
	g.GET("/opportunities/:id/history", s.opportunityHistory)
	g.POST("/opportunities/:id/sale", s.saleFromOpportunity)
	g.POST("/opportunities/:id/restore", s.restoreOpportunity)
	g.GET("/recycle-bin/opportunities", s.listDeletedOpportunities)

	g.GET("/pipeline", s.pipeline)
	g.GET("/pipeline/:stage_id", s.pipelineStage)
}

// stageName is a stage's name in the caller's language while it is a
// seeded default, and as the company typed it otherwise.
func (s *Server) stageName(lang, code, name string) string {
	if deal.IsDefaultName(code, name) {
		return s.msg.T(lang, "option.stage."+code, nil)
	}
	return name
}

func (s *Server) localizeOpps(c *gin.Context, items []deal.Opportunity) {
	lang := langOf(c)
	for i := range items {
		items[i].StageName = s.stageName(lang, items[i].StageCode, items[i].StageName)
	}
}

func (s *Server) localizeStages(c *gin.Context, items []deal.Stage) {
	lang := langOf(c)
	for i := range items {
		items[i].Name = s.stageName(lang, items[i].Code, items[i].Name)
	}
}

// stagesBody is the board with the lost-reason options the kanban needs
// when a card is dropped on the lost stage.
type stagesBody struct {
	Items       []deal.Stage `json:"items"`
	LostReasons []option     `json:"lost_reasons"`
	// LostReasonLabels names every reason, retired ones too.
	LostReasonLabels map[string]string `json:"lost_reason_labels"`
}

func (s *Server) renderStages(c *gin.Context, items []deal.Stage) {
	s.localizeStages(c, items)
	reasons, err := s.Settings.Options(c.Request.Context(), optlist.LostReasons)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, stagesBody{Items: items, LostReasons: optionsIn(reasons, langOf(c)),
		LostReasonLabels: allLabels(reasons, langOf(c))})
}

func (s *Server) listStages(c *gin.Context) {
	items, err := s.Deals.Stages(c.Request.Context(), actorOf(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.renderStages(c, items)
}

func (s *Server) replaceStages(c *gin.Context) {
	var in deal.StagesInput
	if !s.bind(c, &in) {
		return
	}
	ctx, a := c.Request.Context(), actorOf(c)
	current, err := s.Deals.Stages(ctx, a)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.unlocalizeStageNames(in.Stages, current)
	items, err := s.Deals.ReplaceStages(ctx, a, in)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.renderStages(c, items)
}

// unlocalizeStageNames turns a default stage's label, sent back as shown
// in any language, into its stored default name, so saving the board
// unchanged keeps the stage localized instead of freezing one language.
func (s *Server) unlocalizeStageNames(in []deal.StageInput, current []deal.Stage) {
	codes := map[int64]string{}
	for _, st := range current {
		codes[st.ID] = st.Code
	}
	for i, si := range in {
		code := ""
		switch {
		case si.ID != nil:
			code = codes[*si.ID]
		case si.Code != nil:
			code = *si.Code
		}
		def, ok := deal.DefaultName(code)
		if !ok || si.Name == nil {
			continue
		}
		for _, lang := range i18n.Languages {
			if *si.Name == s.msg.T(lang, "option.stage."+code, nil) {
				in[i].Name = &def
			}
		}
	}
}

func (s *Server) opportunityFilter(c *gin.Context) (deal.Filter, error) {
	p := s.params(c)
	f := deal.Filter{CustomerID: p.id("customer_id"), OwnerID: p.id("owner_id"), DepartmentID: p.id("department_id"),
		StageID: p.id("stage"), Status: p.str("status"), DepartmentIDs: p.ids("department_ids"), CloseFrom: p.str("close_from"), CloseTo: p.str("close_to"),
		Q: c.Query("q"), Page: p.int("page"), PageSize: p.int("page_size")}
	return f, p.err()
}

func (s *Server) listOpportunities(c *gin.Context) {
	f, err := s.opportunityFilter(c)
	if err == nil {
		var items []deal.Opportunity
		var total int
		if items, total, err = s.Deals.List(c.Request.Context(), actorOf(c), f); err == nil {
			s.localizeOpps(c, items)
			c.JSON(http.StatusOK, page[deal.Opportunity]{Items: items, Total: total, Page: max(f.Page, 1), PageSize: pageSize(f.PageSize)})
			return
		}
	}
	s.fail(c, err)
}

func (s *Server) listDeletedOpportunities(c *gin.Context) {
	f, err := s.opportunityFilter(c)
	if err == nil {
		var items []deal.Opportunity
		var total int
		if items, total, err = s.Deals.ListDeleted(c.Request.Context(), actorOf(c), f); err == nil {
			s.localizeOpps(c, items)
			c.JSON(http.StatusOK, page[deal.Opportunity]{Items: items, Total: total, Page: max(f.Page, 1), PageSize: pageSize(f.PageSize)})
			return
		}
	}
	s.fail(c, err)
}

// renderOpp answers one opportunity (or the error that prevented it).
func (s *Server) renderOpp(c *gin.Context, status int, o *deal.Opportunity, err error) {
	if err != nil {
		s.fail(c, err)
		return
	}
	o.StageName = s.stageName(langOf(c), o.StageCode, o.StageName)
	c.JSON(status, o)
}

func (s *Server) getOpportunity(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	o, err := s.Deals.Get(c.Request.Context(), actorOf(c), id)
	s.renderOpp(c, http.StatusOK, o, err)
}

func (s *Server) createOpportunity(c *gin.Context) {
	var in deal.Input
	if !s.bind(c, &in) {
		return
	}
	o, err := s.Deals.Create(c.Request.Context(), actorOf(c), in)
	s.renderOpp(c, http.StatusCreated, o, err)
}

func (s *Server) updateOpportunity(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var in deal.Input
	if !s.bind(c, &in) {
		return
	}
	o, err := s.Deals.Update(c.Request.Context(), actorOf(c), id, in)
	s.renderOpp(c, http.StatusOK, o, err)
}

func (s *Server) moveOpportunity(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var in deal.MoveInput
	if !s.bind(c, &in) {
		return
	}
	o, err := s.Deals.Move(c.Request.Context(), actorOf(c), id, in)
	s.renderOpp(c, http.StatusOK, o, err)
}

func (s *Server) deleteOpportunity(c *gin.Context) {
	id, err := pathID(c)
	if err == nil {
		err = s.Deals.Delete(c.Request.Context(), actorOf(c), id)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) restoreOpportunity(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	o, err := s.Deals.Restore(c.Request.Context(), actorOf(c), id)
	s.renderOpp(c, http.StatusOK, o, err)
}

func (s *Server) opportunityHistory(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	p := s.params(c)
	pg, size := p.int("page"), p.int("page_size")
	if err := p.err(); err != nil {
		s.fail(c, err)
		return
	}
	items, total, err := s.Deals.History(c.Request.Context(), actorOf(c), id, pg, size)
	if err != nil {
		s.fail(c, err)
		return
	}
	lang := langOf(c)
	for i := range items {
		it := &items[i]
		it.ToStageName = s.stageName(lang, it.ToStageCode, it.ToStageName)
		if it.FromStageName != nil && it.FromStageCode != nil {
			name := s.stageName(lang, *it.FromStageCode, *it.FromStageName)
			it.FromStageName = &name
		}
	}
	c.JSON(http.StatusOK, page[deal.HistoryItem]{Items: items, Total: total, Page: max(pg, 1), PageSize: pageSize(size)})
}

// saleFromOpportunity records the sale of a won opportunity; the body
// (sale_date, notes) is optional.
func (s *Server) saleFromOpportunity(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var in deal.SaleInput
	if c.Request.ContentLength != 0 && !s.bind(c, &in) {
		return
	}
	sl, err := s.Deals.CreateSale(c.Request.Context(), actorOf(c), id, in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, sl)
}

func (s *Server) pipelineFilter(c *gin.Context) (deal.PipelineFilter, *params) {
	p := s.params(c)
	return deal.PipelineFilter{OwnerID: p.id("owner_id"), DepartmentID: p.id("department_id"), PerStage: p.int("per_stage")}, p
}

func (s *Server) pipeline(c *gin.Context) {
	f, p := s.pipelineFilter(c)
	if err := p.err(); err != nil {
		s.fail(c, err)
		return
	}
	pl, err := s.Deals.Pipeline(c.Request.Context(), actorOf(c), f)
	if err != nil {
		s.fail(c, err)
		return
	}
	lang := langOf(c)
	for i := range pl.Columns {
		col := &pl.Columns[i]
		col.Stage.Name = s.stageName(lang, col.Stage.Code, col.Stage.Name)
		s.localizeOpps(c, col.Items)
	}
	pl.Won.Stage.Name = s.stageName(lang, pl.Won.Stage.Code, pl.Won.Stage.Name)
	pl.Lost.Stage.Name = s.stageName(lang, pl.Lost.Stage.Code, pl.Lost.Stage.Name)
	c.JSON(http.StatusOK, pl)
}

// pipelineStage pages through one column ("more cards").
func (s *Server) pipelineStage(c *gin.Context) {
	stageID, err := strconv.ParseInt(c.Param("stage_id"), 10, 64)
	if err != nil || stageID < 1 {
		s.fail(c, errs.NotFound("deal.stage_not_found"))
		return
	}
	f, p := s.pipelineFilter(c)
	pg, size := p.int("page"), p.int("page_size")
	if err := p.err(); err != nil {
		s.fail(c, err)
		return
	}
	items, total, err := s.Deals.StageCards(c.Request.Context(), actorOf(c), stageID, f, pg, size)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.localizeOpps(c, items)
	c.JSON(http.StatusOK, page[deal.Opportunity]{Items: items, Total: total, Page: max(pg, 1), PageSize: pageSize(size)})
}
