package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/grouprobot"
	"github.com/dingcrm/crm/internal/jobs"
)

// jobsRoutes are the scheduled jobs (定时任务: job.view / job.manage) and
// the sales teams' group robots (setting.view / setting.manage).
func (s *Server) jobsRoutes(g *gin.RouterGroup) {
	if s.Jobs != nil {
		g.GET("/jobs", s.listJobs)
		g.GET("/jobs/:name/runs", s.listJobRuns)
		g.PATCH("/jobs/:name", s.updateJob)
		g.POST("/jobs/:name/run", s.runJob)
	}
	if s.Robots != nil {
		g.GET("/robots", s.listRobots)
		g.PUT("/robots/:department_id", s.putRobot)
		g.DELETE("/robots/:department_id", s.deleteRobot)
		g.POST("/robots/:department_id/test", s.testRobot)
	}
}

func (s *Server) listJobs(c *gin.Context) {
	items, err := s.Jobs.List(c.Request.Context(), actorOf(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
}

func (s *Server) listJobRuns(c *gin.Context) {
	p := s.params(c)
	pg, size := p.int("page"), p.int("page_size")
	if err := p.err(); err != nil {
		s.fail(c, err)
		return
	}
	items, total, err := s.Jobs.Runs(c.Request.Context(), actorOf(c), c.Param("name"), pg, size)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, page[jobs.Run]{Items: items, Total: total, Page: max(pg, 1), PageSize: pageSize(size)})
}

func (s *Server) updateJob(c *gin.Context) {
	var in jobs.Input
	if !s.bind(c, &in) {
		return
	}
	v, err := s.Jobs.Update(c.Request.Context(), actorOf(c), c.Param("name"), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

// runJob starts a job now: 202 with the run (poll GET /jobs/{name}/runs),
// 409 while it runs.
func (s *Server) runJob(c *gin.Context) {
	run, err := s.Jobs.Trigger(c.Request.Context(), actorOf(c), c.Param("name"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Location", fmt.Sprintf("/api/v1/jobs/%s/runs", run.Job))
	c.JSON(http.StatusAccepted, run)
}

func (s *Server) listRobots(c *gin.Context) {
	items, err := s.Robots.List(c.Request.Context(), actorOf(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
}

func deptParam(c *gin.Context) (int64, bool) {
	id, err := strconv.ParseInt(c.Param("department_id"), 10, 64)
	return id, err == nil && id > 0
}

func (s *Server) putRobot(c *gin.Context) {
	id, ok := deptParam(c)
	if !ok {
		s.fail(c, grouprobot.ErrNotFound)
		return
	}
	var in grouprobot.Input
	if !s.bind(c, &in) {
		return
	}
	r, err := s.Robots.Put(c.Request.Context(), actorOf(c), id, in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, r)
}

func (s *Server) deleteRobot(c *gin.Context) {
	id, ok := deptParam(c)
	if !ok {
		s.fail(c, grouprobot.ErrNotFound)
		return
	}
	if err := s.Robots.Delete(c.Request.Context(), actorOf(c), id); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// testRobot posts a test message to the group; DingTalk's refusal comes
// back as a 502 with its message.
func (s *Server) testRobot(c *gin.Context) {
	id, ok := deptParam(c)
	if !ok {
		s.fail(c, grouprobot.ErrNotFound)
		return
	}
	lang := langOf(c)
	err := s.Robots.Test(c.Request.Context(), actorOf(c), id, s.msg.T(lang, "grouprobot.test_text", nil))
	if err == nil {
		c.JSON(http.StatusOK, gin.H{"ok": true})
		return
	}
	var de *errs.Error
	if errors.As(err, &de) {
		s.fail(c, err)
		return
	}
	s.log.Warn("group robot test failed", "department_id", id, "err", s.redact(err))
	c.JSON(http.StatusOK, gin.H{"ok": false, "error": s.testError(err)})
}
