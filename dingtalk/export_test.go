package dingtalk

import (
	"context"
	"time"
)

// SetSleep replaces the client's backoff sleep (tests record the delays).
func SetSleep(c *Client, f func(ctx context.Context, d time.Duration) error) { c.sleep = f }
