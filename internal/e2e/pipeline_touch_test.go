package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/dingcrm/crm/internal/apptest"
)

// TestPipelineTouch drags a kanban card with a finger at the DingTalk phone size
// (375×812, touch emulated, so the pointer is coarse and the pointer events are
// of type "touch"): a quick swipe scrolls the board and moves nothing; a swipe
// up and down in a column scrolls the column; a long press lifts the card (a
// floating copy follows the finger), the board scrolls sideways while the finger
// is at its right edge, and releasing over 需求确认 moves the card there — on the
// page and on the server; released elsewhere nothing moves; dropped on 赢单 it is
// won and 生成销售数据 is offered; a plain tap still opens a card.
//
// With CRM_SCREENSHOTS=<dir> it saves the screen mid-drag as pipeline-touch-drag.png.
func TestPipelineTouch(t *testing.T) {
	browserCtx := startBrowser(t)
	srv := apptest.Start(t)
	a := salespeople(t, srv)[0]
	suffix := fmt.Sprintf("%06d", time.Now().UnixNano()%1_000_000)

	// A customer with a few opportunities in 初步接洽 (enough for the column to scroll),
	// the one to drag created last so that it comes first.
	api := srv.Login(t, a.UserID)
	var cust struct{ ID int64 }
	if st := api.Do("POST", "/api/v1/customers", map[string]any{"name": "触屏测试" + suffix, "company": "触屏公司" + suffix}, &cust); st != 201 {
		t.Fatalf("create the customer: status %d", st)
	}
	var opp struct {
		ID      int64 `json:"id"`
		StageID int64 `json:"stage_id"`
	}
	for i := range 8 {
		if st := api.Do("POST", "/api/v1/opportunities", map[string]any{"customer_id": cust.ID, "title": fmt.Sprintf("填充机会%d-%s", i, suffix), "amount_fen": 10000 * (i + 1)}, &opp); st != 201 {
			t.Fatalf("create an opportunity: status %d", st)
		}
	}
	title := "拖动机会" + suffix
	if st := api.Do("POST", "/api/v1/opportunities", map[string]any{"customer_id": cust.ID, "title": title, "amount_fen": 888800}, &opp); st != 201 {
		t.Fatalf("create the opportunity: status %d", st)
	}
	id := strconv.FormatInt(opp.ID, 10)

	p := openPage(t, browserCtx, srv.URL, 375, 812)
	p.do("emulate a touch phone", chromedp.EmulateViewport(375, 812, chromedp.EmulateTouch, chromedp.EmulateMobile, chromedp.EmulatePortrait))
	p.login(a.UserID)
	if got := p.eval(`String(matchMedia('(pointer: coarse)').matches)`); got != "true" {
		t.Fatalf("(pointer: coarse) = %s with touch emulated, want true", got)
	}
	p.nav("opportunities")

	card := fmt.Sprintf(`[data-testid="pipeline-card"][data-id="%s"]`, id)
	column := func(code string) string {
		return fmt.Sprintf(`[data-testid="pipeline-column"][data-stage-code="%s"]`, code)
	}
	p.waitFor("the card is in 初步接洽", fmt.Sprintf(`!!document.querySelector(%s)`, jsString(column("initial")+" "+card)))
	// Record the pointer events the board sees, to check they come from a finger.
	p.eval(`(() => {
		window.__pointerTypes = new Set();
		document.querySelector('[data-testid="pipeline-board"]').addEventListener('pointerdown', (e) => window.__pointerTypes.add(e.pointerType), true);
		return '';
	})()`)
	count := func(code string) int {
		t.Helper()
		n, err := strconv.Atoi(p.eval(fmt.Sprintf(`document.querySelector(%s).textContent`, jsString(column(code)+` [data-testid="column-count"]`))))
		if err != nil {
			t.Fatalf("the count of %s: %v", code, err)
		}
		return n
	}
	serverStage := func() string {
		t.Helper()
		ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
		defer cancel()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`fetch('/api/v1/opportunities/%s').then((r) => r.json()).then((o) => String(o.stage_id))`, id), chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("GET /opportunities/%s in the page: %v", id, err)
		}
		return s
	}
	initialID := p.eval(fmt.Sprintf(`document.querySelector(%s).dataset.stageId`, jsString(column("initial"))))
	needsID := p.eval(fmt.Sprintf(`document.querySelector(%s).dataset.stageId`, jsString(column("needs"))))
	initialBefore, needsBefore := count("initial"), count("needs")

	// The card in view at the top of the page, the board scrolled to its start.
	p.eval(fmt.Sprintf(`(() => { window.scrollTo(0, 0); document.querySelector('[data-testid="pipeline-board"]').scrollLeft = 0; return String(document.querySelector(%s).getBoundingClientRect().bottom); })()`, jsString(card)))
	if b := p.rect(card); b.Y+b.H > 812-60 {
		t.Fatalf("the card is not on the screen at 375×812: %+v", b)
	}

	// A quick swipe to the left on the card: the board scrolls, nothing is lifted or moved.
	c := p.rect(card)
	x, y := c.X+c.W/2, c.Y+c.H/2
	p.touch(input.DispatchTouchEventTypeTouchStart, x, y)
	for i := 1; i <= 10; i++ {
		p.do("wait a frame", chromedp.Sleep(16*time.Millisecond))
		p.touch(input.DispatchTouchEventTypeTouchMove, x-float64(i)*20, y)
	}
	p.touch(input.DispatchTouchEventTypeTouchEnd, 0, 0)
	p.waitFor("the swipe scrolled the board", `document.querySelector('[data-testid="pipeline-board"]').scrollLeft > 40`)
	p.do("wait longer than a long press", chromedp.Sleep(600*time.Millisecond))
	if got := p.eval(fmt.Sprintf(`[!!document.querySelector('[data-testid="pipeline-drag-ghost"]'), !!document.querySelector(%s), !!document.querySelector('.drop-over, .touch-dragging')].join(' ')`,
		jsString(column("initial")+" "+card))); got != "false true false" {
		t.Fatalf("after a swipe: ghost, card still in 初步接洽, highlight = %s, want false true false", got)
	}
	if got := p.eval(`[...window.__pointerTypes].join(',')`); got != "touch" {
		t.Fatalf("the board saw pointer types %q, want touch", got)
	}
	if s := serverStage(); s != initialID {
		t.Fatalf("after a swipe the server has stage %s, want %s (初步接洽)", s, initialID)
	}

	// Back to the start; a swipe up inside the column scrolls the column, not the board.
	p.eval(`(() => { document.querySelector('[data-testid="pipeline-board"]').scrollLeft = 0; return ''; })()`)
	p.waitFor("the board is back at its start", `document.querySelector('[data-testid="pipeline-board"]').scrollLeft === 0`)
	body := column("initial") + ` .col-body`
	if p.eval(fmt.Sprintf(`(() => { const b = document.querySelector(%s); return String(b.scrollHeight > b.clientHeight + 20); })()`, jsString(body))) != "true" {
		t.Fatalf("初步接洽 does not overflow; the test needs it to")
	}
	cb := p.rect(body)
	x, y = cb.X+cb.W/2, min(cb.Y+cb.H, 812-70)-20 // above the bottom tab bar
	p.touch(input.DispatchTouchEventTypeTouchStart, x, y)
	for i := 1; i <= 10; i++ {
		p.do("wait a frame", chromedp.Sleep(16*time.Millisecond))
		p.touch(input.DispatchTouchEventTypeTouchMove, x, y-float64(i)*20)
	}
	p.touch(input.DispatchTouchEventTypeTouchEnd, 0, 0)
	p.waitFor("the column scrolled", fmt.Sprintf(`document.querySelector(%s).scrollTop > 40`, jsString(body)))
	p.do("wait longer than a long press", chromedp.Sleep(600*time.Millisecond))
	if got := p.eval(`String(!!document.querySelector('[data-testid="pipeline-drag-ghost"]'))`); got != "false" {
		t.Fatalf("a swipe in the column lifted a card")
	}
	p.eval(fmt.Sprintf(`(() => { document.querySelector(%s).scrollTop = 0; window.scrollTo(0, 0); return ''; })()`, jsString(body)))
	p.waitFor("the column is back at its top", fmt.Sprintf(`document.querySelector(%s).scrollTop === 0`, jsString(body)))

	// Long-press the card: after the press it is lifted and a floating copy shows.
	c = p.rect(card)
	x, y = c.X+c.W/2, c.Y+c.H/2
	p.touch(input.DispatchTouchEventTypeTouchStart, x, y)
	p.do("hold", chromedp.Sleep(200*time.Millisecond))
	if got := p.eval(`String(!!document.querySelector('[data-testid="pipeline-drag-ghost"]'))`); got != "false" {
		t.Fatalf("the card lifted before the long press was over")
	}
	p.touch(input.DispatchTouchEventTypeTouchMove, x+3, y+2) // a finger trembles; under 8 px it stays a press
	p.waitFor("the card is lifted", fmt.Sprintf(`!!document.querySelector('[data-testid="pipeline-drag-ghost"]') &&
		document.querySelector(%s).classList.contains('dragging') && document.querySelector('[data-testid="pipeline-board"]').classList.contains('touch-dragging')`, jsString(card)))
	if got := p.eval(`String(document.querySelectorAll('[data-testid="pipeline-card"]').length === document.querySelectorAll('.board [data-testid="pipeline-card"]').length && !document.querySelector('[data-testid="pipeline-drag-ghost"] [data-testid]'))`); got != "true" {
		t.Fatalf("the floating copy carries the card's test ids")
	}

	// Drag it to the right edge: the ghost follows, the board scrolls until 需求确认 is well in view.
	ex, ey := 370.0, y+40
	for i := 1; i <= 8; i++ {
		p.do("wait a frame", chromedp.Sleep(16*time.Millisecond))
		p.touch(input.DispatchTouchEventTypeTouchMove, x+(ex-x)*float64(i)/8, y+(ey-y)*float64(i)/8)
	}
	g := p.rect(`[data-testid="pipeline-drag-ghost"]`)
	if g.X+g.W < 300 || g.Y > ey || g.Y+g.H < ey {
		t.Fatalf("the floating copy at %+v is not under the finger at (%.0f, %.0f)", g, ex, ey)
	}
	p.waitFor("the board scrolls while the finger is at its edge", fmt.Sprintf(`document.querySelector(%s).getBoundingClientRect().left < 150`, jsString(column("needs"))))
	n := p.rect(column("needs"))
	tx, ty := min(max(n.X+n.W/2, 60), 375-80), ey
	p.touch(input.DispatchTouchEventTypeTouchMove, tx-10, ty)
	p.do("wait a frame", chromedp.Sleep(30*time.Millisecond))
	n = p.rect(column("needs"))
	tx = min(max(n.X+n.W/2, 60), 375-80)
	p.touch(input.DispatchTouchEventTypeTouchMove, tx, ty)
	p.waitFor("需求确认 is highlighted under the finger", fmt.Sprintf(`document.querySelector(%s).classList.contains('drop-over') && document.querySelectorAll('.drop-over').length === 1`, jsString(column("needs"))))
	if dir := os.Getenv("CRM_SCREENSHOTS"); dir != "" {
		ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		cancel()
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "pipeline-touch-drag.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Let go: the card moves into 需求确认, which counts it; the server agrees.
	p.touch(input.DispatchTouchEventTypeTouchEnd, 0, 0)
	p.waitFor("the card moved to 需求确认", fmt.Sprintf(`!!document.querySelector(%s) && !document.querySelector(%s) &&
		!document.querySelector('[data-testid="pipeline-drag-ghost"], .drop-over, .touch-dragging, .pcard.dragging')`,
		jsString(column("needs")+" "+card), jsString(column("initial")+" "+card)))
	p.waitText(`[data-testid="toast"]`, title)
	p.waitFor("the column counts went up and down", fmt.Sprintf(`document.querySelector(%s).textContent === '%d' && document.querySelector(%s).textContent === '%d'`,
		jsString(column("needs")+` [data-testid="column-count"]`), needsBefore+1, jsString(column("initial")+` [data-testid="column-count"]`), initialBefore-1))
	if s := serverStage(); s != needsID {
		t.Fatalf("after the drag the server has stage %s, want %s (需求确认)", s, needsID)
	}
	if got := p.eval(`location.hash`); got != "#/pipeline" {
		t.Fatalf("the release opened %s; it should stay on the pipeline", got)
	}

	// Released outside any column (on the summary above the board): nothing moves.
	p.eval(`(() => { window.scrollTo(0, 0); return ''; })()`)
	c = p.rect(column("needs") + " " + card)
	x, y = c.X+c.W/2, c.Y+c.H/2
	sum := p.rect(`[data-testid="pipeline-open-sum"]`)
	p.touch(input.DispatchTouchEventTypeTouchStart, x, y)
	p.waitFor("the card is lifted again", `!!document.querySelector('[data-testid="pipeline-drag-ghost"]')`)
	for i := 1; i <= 6; i++ {
		p.do("wait a frame", chromedp.Sleep(16*time.Millisecond))
		p.touch(input.DispatchTouchEventTypeTouchMove, x+(sum.X+sum.W/2-x)*float64(i)/6, y+(sum.Y+sum.H/2-y)*float64(i)/6)
	}
	p.touch(input.DispatchTouchEventTypeTouchEnd, 0, 0)
	p.waitFor("the drag ended without a move", fmt.Sprintf(`!document.querySelector('[data-testid="pipeline-drag-ghost"], .drop-over, .touch-dragging') && !!document.querySelector(%s)`,
		jsString(column("needs")+" "+card)))
	p.do("let a move (if any) reach the server", chromedp.Sleep(300*time.Millisecond))
	if s := serverStage(); s != needsID {
		t.Fatalf("after a cancelled drag the server has stage %s, want %s (需求确认)", s, needsID)
	}

	// Dropped on the 赢单 tile above the board: the same move as the picker's, with its
	// 生成销售数据 offer; the release is no tap on the tile's link.
	wonBefore := p.eval(`document.querySelector('[data-testid="pipeline-won-count"]').textContent`)
	c = p.rect(column("needs") + " " + card)
	x, y = c.X+c.W/2, c.Y+c.H/2
	won := p.rect(`[data-testid="pipeline-drop-won"]`)
	p.touch(input.DispatchTouchEventTypeTouchStart, x, y)
	p.waitFor("the card is lifted for 赢单", `!!document.querySelector('[data-testid="pipeline-drag-ghost"]')`)
	for i := 1; i <= 6; i++ {
		p.do("wait a frame", chromedp.Sleep(16*time.Millisecond))
		p.touch(input.DispatchTouchEventTypeTouchMove, x+(won.X+won.W/2-x)*float64(i)/6, y+(won.Y+won.H/2-y)*float64(i)/6)
	}
	p.waitFor("赢单 is highlighted", `document.querySelector('[data-testid="pipeline-drop-won"]').classList.contains('drop-over')`)
	p.touch(input.DispatchTouchEventTypeTouchEnd, 0, 0)
	p.waitText(`[data-testid="won-dialog"]`, "¥8,888.00")
	p.waitFor("the card left the board and 赢单 counts it", fmt.Sprintf(`!document.querySelector(%s) &&
		document.querySelector('[data-testid="pipeline-won-count"]').textContent === String(%s + 1)`, jsString(card), wonBefore))
	if got := p.eval(`location.hash`); got != "#/pipeline" {
		t.Fatalf("the release on 赢单 opened %s; it should stay on the pipeline", got)
	}
	p.click(`[data-testid="won-later"]`)
	p.waitFor("the offer closed", `!document.querySelector('.overlay')`)

	// A plain tap on a card, right after, still opens it.
	p.eval(`(() => { window.scrollTo(0, 0); document.querySelector('[data-testid="pipeline-board"]').scrollLeft = 0; return ''; })()`)
	p.waitFor("the board is back at its start", `document.querySelector('[data-testid="pipeline-board"]').scrollLeft === 0`)
	c = p.rect(column("initial") + ` [data-testid="pipeline-card"] .pcard-customer`)
	p.touch(input.DispatchTouchEventTypeTouchStart, c.X+c.W/2, c.Y+c.H/2)
	p.do("a tap", chromedp.Sleep(60*time.Millisecond))
	p.touch(input.DispatchTouchEventTypeTouchEnd, 0, 0)
	p.waitFor("the tapped card's opportunity is open", `location.hash.startsWith('#/opportunities/') && !!document.querySelector('[data-testid="opportunity-detail"]')`)
	p.noExceptions()
}

type box struct{ X, Y, W, H float64 }

// rect is the element's getBoundingClientRect (viewport CSS pixels).
func (p *page) rect(sel string) box {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	b, err := chromedp.Run(ctx, chromedp.Evaluate[box](fmt.Sprintf(`(() => {
		const r = document.querySelector(%s).getBoundingClientRect();
		return { X: r.left, Y: r.top, W: r.width, H: r.height };
	})()`, jsString(sel))))
	if err != nil {
		p.t.Fatalf("the box of %s: %v\n%s", sel, err, p.describe())
	}
	return b
}

// touch sends one finger's touch event, as the phone's screen would: the browser
// turns it into pointer events of type "touch" and, unless the page prevents
// it, into scrolling. TouchEnd carries no points.
func (p *page) touch(kind input.DispatchTouchEventType, x, y float64) {
	p.t.Helper()
	params := input.DispatchTouchEventParams{Type: kind, TouchPoints: []*input.TouchPoint{}}
	if kind == input.DispatchTouchEventTypeTouchStart || kind == input.DispatchTouchEventTypeTouchMove {
		params.TouchPoints = []*input.TouchPoint{{X: x, Y: y}}
	}
	p.do(fmt.Sprintf("touch %s at (%.0f, %.0f)", kind, x, y), chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, input.DispatchTouchEvent, params)
		return err
	}))
}
