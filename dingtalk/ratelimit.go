package dingtalk

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"golang.org/x/time/rate"
)

// limiter is one API's token bucket on this instance.
type limiter struct{ *rate.Limiter }

func (l *limiter) wait(ctx context.Context) error { return l.Wait(ctx) }

// limiter returns the bucket of api, creating it on first use.
func (c *Client) limiter(api string) *limiter {
	c.limMu.Lock()
	defer c.limMu.Unlock()
	if l, ok := c.limiters[api]; ok {
		return l
	}
	qps := c.opts.QPS
	if v, ok := c.opts.APIQPS[api]; ok && v > 0 {
		qps = v
	}
	l := &limiter{rate.NewLimiter(rate.Limit(qps), c.opts.Burst)}
	c.limiters[api] = l
	return l
}

// webhookLimiter keeps one custom group robot under its 20 messages a
// minute (going over throttles it for 10 minutes): 10 at once, then one
// every 6 s, so no minute ever sees more than 20.
func (c *Client) webhookLimiter(token string) *limiter {
	key := APIRobotWebhook + "#" + token
	c.limMu.Lock()
	defer c.limMu.Unlock()
	if l, ok := c.limiters[key]; ok {
		return l
	}
	l := &limiter{rate.NewLimiter(rate.Every(6*time.Second), 10)}
	c.limiters[key] = l
	return l
}

// backoff is the delay before attempt n+1 after err: exponential from
// Retry.Base, capped at Retry.Max, with jitter in [d/2, d]; at least
// Retry.QPSWait after a QPS answer.
func (c *Client) backoff(n int, err error) time.Duration {
	p := c.opts.Retry
	d := p.Base << (n - 1)
	if d > p.Max || d <= 0 {
		d = p.Max
	}
	d = d/2 + rand.N(d/2+1)
	var de *Error
	if errors.As(err, &de) && (de.kind() == kindQPS || de.kind() == kindGlobalQPS) && d < p.QPSWait {
		d = p.QPSWait + rand.N(p.QPSWait/4+1)
	}
	return d
}
