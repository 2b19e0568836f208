package outbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/dingcrm/crm/dingtalk"
)

// maxMsgBytes keeps a rendered card under DingTalk's 2048-byte msg limit
// with room to spare.
const maxMsgBytes = 1950

// item is a message as the renderer needs it.
type item struct {
	ID         int64     `db:"id"`
	Kind       string    `db:"kind"`
	Title      string    `db:"title"`
	Body       string    `db:"body"`
	URL        string    `db:"url"`
	CustomerID int64     `db:"customer_id"`
	DueAt      time.Time `db:"due_at"`
}

// card is a batch as the person receives it: in DingTalk (Msg) and in the
// in-app inbox (Title, Body, URL), the same words.
type card struct {
	Title, Body, URL string
	CustomerID       int64
	Msg              []byte
}

// words are the renderer's few fixed strings per language.
var words = map[string]map[string]string{
	"zh-CN": {"many": "%d 条提醒", "open": "查看", "ref": "编号", "more": "在 CRM 中查看全部"},
	"en":    {"many": "%d reminders", "open": "Open", "ref": "Ref", "more": "See all in the CRM"},
}

func word(lang, key string) string {
	if w, ok := words[lang]; ok {
		return w[key]
	}
	return words["zh-CN"][key]
}

// render builds the card of batch id from its items. The batch's id is in
// the content as its reference: no two batches share content (DingTalk's
// same-content-once-a-day rule never drops a legitimate one), while a resend
// of the same batch is byte-identical (DingTalk drops it, so the person sees
// it once).
func render(id int64, items []item, lang, baseURL string, loc *time.Location) (card, error) {
	var c card
	ref := fmt.Sprintf("\n\n###### %s %s", word(lang, "ref"), batchRef(id))
	if len(items) == 1 {
		it := items[0]
		c = card{Title: it.Title, URL: it.URL, CustomerID: it.CustomerID}
		c.Body = it.Body
	} else {
		c.Title = fmt.Sprintf(word(lang, "many"), len(items))
		c.URL = "#/inbox"
		var b strings.Builder
		for i, it := range items {
			if i > 0 {
				b.WriteString("\n\n")
			}
			fmt.Fprintf(&b, "**%s** %s", it.DueAt.In(loc).Format("15:04"), it.Title)
			if it.Body != "" {
				b.WriteString("\n\n")
				b.WriteString(it.Body)
			}
		}
		c.Body = b.String()
		if same := sameCustomer(items); same > 0 {
			c.URL, c.CustomerID = items[0].URL, same
		}
	}
	md := "### " + c.Title + "\n\n" + c.Body + ref
	msg := dingtalk.ActionCardMessage(cut(c.Title, 60), md, word(lang, "open"), appLink(baseURL, c.URL))
	b, err := encode(msg)
	if err != nil {
		return card{}, err
	}
	c.Msg = b
	c.Body += ref
	return c, nil
}

func sameCustomer(items []item) int64 {
	id := items[0].CustomerID
	for _, it := range items[1:] {
		if it.CustomerID != id || it.URL != items[0].URL {
			return 0
		}
	}
	return id
}

// batchRef is the reference shown at the bottom of a batch's content.
func batchRef(id int64) string { return fmt.Sprintf("N%d", id) }

// appLink is the URL a card's button opens: the micro-app page inside
// DingTalk, in the PC side panel on the desktop (pc_slide) and in the
// app's web view on mobile.
func appLink(baseURL, path string) string {
	u := strings.TrimRight(baseURL, "/") + "/" + strings.TrimLeft(path, "/")
	return "dingtalk://dingtalkclient/page/link?url=" + url.QueryEscape(u) + "&pc_slide=true"
}

// encode marshals a msg as the client sends it (no HTML escaping).
func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("outbox: encode card: %w", err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// fit renders the longest prefix of items (at least one) whose card fits
// DingTalk's size limit; a single item that is too long has its body cut.
func fit(id int64, items []item, lang, baseURL string, loc *time.Location) (card, int, error) {
	n := len(items)
	for n > 1 {
		c, err := render(id, items[:n], lang, baseURL, loc)
		if err != nil {
			return card{}, 0, err
		}
		if len(c.Msg) <= maxMsgBytes {
			return c, n, nil
		}
		n--
	}
	one := items[0]
	for {
		c, err := render(id, []item{one}, lang, baseURL, loc)
		if err != nil {
			return card{}, 0, err
		}
		if len(c.Msg) <= maxMsgBytes || one.Body == "" {
			return c, 1, nil
		}
		r := []rune(one.Body)
		one.Body = string(r[:len(r)*3/4]) + "…"
	}
}
