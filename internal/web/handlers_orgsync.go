package web

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/dingcrm/crm/internal/orgsync"
)

// orgsyncRoutes registers the organization sync's admin endpoints on the
// signed-in group.
func (s *Server) orgsyncRoutes(g *gin.RouterGroup) {
	g.POST("/org/sync", s.startOrgSync)
	g.GET("/org/sync/:id", s.getOrgSync)
	g.GET("/org/syncs", s.listOrgSyncs)
	g.GET("/org/tree", s.orgTree)
	g.POST("/org/users/:id/auto-roles", s.autoRoles)
	g.GET("/dingtalk/usage", s.dingtalkUsage)
}

// dingtalkEventRoutes mounts DingTalk's event callback. It is outside
// /api/v1 and needs no session or CSRF token: the push's signature (and
// its encryption) is the authentication. Being open to anyone, it is
// rate-limited per address like the robot's callback.
func (s *Server) dingtalkEventRoutes(e *gin.Engine) {
	e.POST("/dingtalk/events", s.callbackLimit(), gin.WrapH(s.OrgSync.CallbackHandler()))
}

type startSyncInput struct {
	// Force applies a sync that would deactivate most people.
	Force bool `json:"force"`
}

// startOrgSync begins a full sync in the background: 202 with the sync to
// poll (Location header), 409 while another one runs.
func (s *Server) startOrgSync(c *gin.Context) {
	var in startSyncInput
	if c.Request.ContentLength != 0 && !s.bind(c, &in) {
		return
	}
	sy, err := s.OrgSync.Start(c.Request.Context(), actorOf(c), in.Force)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Location", fmt.Sprintf("/api/v1/org/sync/%d", sy.ID))
	c.JSON(http.StatusAccepted, sy)
}

func (s *Server) getOrgSync(c *gin.Context) {
	id, err := pathID(c)
	if err == nil {
		var sy *orgsync.Sync
		if sy, err = s.OrgSync.Get(c.Request.Context(), actorOf(c), id); err == nil {
			c.JSON(http.StatusOK, sy)
			return
		}
	}
	s.fail(c, err)
}

func (s *Server) listOrgSyncs(c *gin.Context) {
	p := s.params(c)
	pg, size := p.int("page"), p.int("page_size")
	if err := p.err(); err != nil {
		s.fail(c, err)
		return
	}
	items, total, err := s.OrgSync.List(c.Request.Context(), actorOf(c), pg, size)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, page[orgsync.Sync]{Items: items, Total: total, Page: max(pg, 1), PageSize: pageSize(size)})
}

func (s *Server) orgTree(c *gin.Context) {
	tree, err := s.OrgSync.Tree(c.Request.Context(), actorOf(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"departments": tree})
}

// autoRoles gives a person's roles back to the DingTalk role mapping.
func (s *Server) autoRoles(c *gin.Context) {
	id, err := pathID(c)
	if err == nil {
		if err = s.OrgSync.AutoRoles(c.Request.Context(), actorOf(c), id); err == nil {
			var u any
			if u, err = s.Users.Get(c.Request.Context(), actorOf(c), id); err == nil {
				c.JSON(http.StatusOK, u)
				return
			}
		}
	}
	s.fail(c, err)
}

func (s *Server) dingtalkUsage(c *gin.Context) {
	u, err := s.OrgSync.Usage(c.Request.Context(), actorOf(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, u)
}
