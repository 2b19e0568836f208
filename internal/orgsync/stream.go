package orgsync

import (
	"context"
	"errors"
	"fmt"

	"github.com/dingcrm/crm/dingtalk"
)

// StartStream receives contact events over DingTalk's Stream mode
// (dingtalk.transport: stream): an outbound WebSocket to the gateway, so
// no public URL is needed. Each event goes through the same intake as
// POST /dingtalk/events: stored once per event id in org_events and
// acknowledged only once stored (a failed insert answers LATER and the
// platform delivers it again), then applied by the event worker. There is
// no signature or replay check: the connection itself is authenticated
// by the AppKey and AppSecret, and a repeated event id is not stored twice.
//
// The connection is kept (reconnecting with backoff) until Close, which
// closes it and waits for it. o.Handle is set here; o.Logger defaults to
// the service's. The returned client reports the connection's state.
func (s *Service) StartStream(o dingtalk.StreamOptions) (*dingtalk.StreamClient, error) {
	o.Handle = s.enqueue
	if o.Logger == nil {
		o.Logger = s.log
	}
	c, err := dingtalk.NewStreamClient(o)
	if err != nil {
		return nil, fmt.Errorf("orgsync: %w", err)
	}
	if !s.goBackground(func(ctx context.Context) { _ = c.Run(ctx) }) {
		return nil, errors.New("orgsync: stream not started: the service is closed")
	}
	return c, nil
}
