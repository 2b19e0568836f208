package dingtalk

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestTransportErrorsHideTheSecret: a network failure on /gettoken must not
// carry the app secret (it is in the query string) into errors and logs.
func TestTransportErrorsHideTheSecret(t *testing.T) {
	c, err := New(Options{AppKey: "key", AppSecret: "topsecret-123", OAPIBaseURL: "http://127.0.0.1:1",
		APIBaseURL: "http://127.0.0.1:1", Timeout: 200 * time.Millisecond,
		Retry: RetryPolicy{MaxAttempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetAccessToken(context.Background())
	if err == nil {
		t.Fatal("a closed port answered")
	}
	if strings.Contains(err.Error(), "topsecret-123") {
		t.Fatalf("error leaks the secret: %v", err)
	}
}
