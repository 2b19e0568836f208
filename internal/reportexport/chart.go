package reportexport

import (
	"math"

	"github.com/go-pdf/fpdf"

	"github.com/dingcrm/crm/internal/reportview"
)

// box is a rectangle on the page, in millimetres.
type box struct{ x, y, w, h float64 }

// chart draws one chart in a framed box the width of the page: its title,
// a legend, then the plot for its kind. An unknown kind draws nothing (the
// tables still carry the numbers).
func (d *doc) chart(c reportview.Chart) {
	if len(c.Series) == 0 || len(c.Categories) == 0 {
		return
	}
	p := d.pdf
	d.ensure(chartH + 4)
	b := box{pageMargin, p.GetY(), d.contentWidth(), chartH}
	p.SetDrawColor(225, 225, 225)
	p.SetLineWidth(0.2)
	p.Rect(b.x, b.y, b.w, b.h, "D")
	d.setSize(10)
	p.SetTextColor(0, 0, 0)
	p.SetXY(b.x+2, b.y+1.5)
	d.cell(b.w-4, 6, d.fit(c.Title, b.w-4), "", 0, "L", false)
	inner := box{b.x + 3, b.y + 9, b.w - 6, b.h - 11}
	switch c.Kind {
	case "pie":
		d.pie(c, inner)
	case "funnel":
		d.funnel(c, inner)
	case "bar", "line", "barline":
		inner = d.legend(c.Series, inner)
		d.axes(c, inner)
	}
	p.SetLineWidth(0.2)
	p.SetDrawColor(0, 0, 0)
	p.SetTextColor(0, 0, 0)
	p.SetXY(pageMargin, b.y+b.h+4)
}

// legend draws a colour key per series across the top of b and returns
// what is left of b below it.
func (d *doc) legend(ss []reportview.Series, b box) box {
	p := d.pdf
	d.setSize(7.5)
	p.SetTextColor(60, 60, 60)
	x, y := b.x, b.y
	for i, s := range ss {
		name := trim(s.Name, 24)
		w := 5 + d.width(name) + 5
		if x+w > b.x+b.w && x > b.x {
			x, y = b.x, y+4.5
		}
		setColor(p, i, true)
		p.Rect(x, y+0.8, 3.5, 2.5, "F")
		d.text(x+4.5, y+3, name)
		x += w
	}
	used := y + 5.5 - b.y
	return box{b.x, b.y + used, b.w, b.h - used}
}

// scale maps values onto a vertical span with round tick marks.
type scale struct {
	lo, hi, step float64
	format       reportview.Format
}

func niceScale(values [][]float64, f reportview.Format) scale {
	lo, hi := 0.0, 0.0
	for _, vs := range values {
		for _, v := range vs {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if hi == lo {
		hi = lo + 1
	}
	step := niceStep((hi - lo) / 5)
	if f == reportview.Int && step < 1 {
		step = 1
	}
	return scale{lo: math.Floor(lo/step) * step, hi: math.Ceil(hi/step) * step, step: step, format: f}
}

// niceStep rounds a raw tick step up to 1, 2, 2.5 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if raw <= m*mag {
			return m * mag
		}
	}
	return 10 * mag
}

func (s scale) y(v float64, b box) float64 {
	return b.y + b.h - (v-s.lo)/(s.hi-s.lo)*b.h
}

// axes draws bar, line and barline charts: a left value axis for the bars
// (or all lines), a right one for the lines of a barline, gridlines, the
// category labels (every k-th when they would collide) and the marks.
func (d *doc) axes(c reportview.Chart, b box) {
	p := d.pdf
	var barSeries, lineSeries []int
	for i := range c.Series {
		switch {
		case c.Kind == "bar", c.Kind == "barline" && i == 0:
			barSeries = append(barSeries, i)
		default:
			lineSeries = append(lineSeries, i)
		}
	}
	values := func(idx []int) [][]float64 {
		out := make([][]float64, 0, len(idx))
		for _, i := range idx {
			out = append(out, c.Series[i].Values)
		}
		return out
	}
	var left, right *scale
	if len(barSeries) > 0 {
		s := niceScale(values(barSeries), c.Series[barSeries[0]].Format)
		left = &s
	}
	if len(lineSeries) > 0 {
		s := niceScale(values(lineSeries), c.Series[lineSeries[0]].Format)
		if left == nil {
			left = &s
		} else {
			right = &s
		}
	}
	d.setSize(7)
	labelW := func(s *scale) float64 {
		w := 0.0
		for v := s.lo; v <= s.hi+s.step/2; v += s.step {
			w = math.Max(w, d.width(axisValue(s.format, v)))
		}
		return w + 2
	}
	lw := labelW(left)
	rw := 0.0
	if right != nil {
		rw = labelW(right)
	}
	plot := box{b.x + lw, b.y + 2, b.w - lw - rw, b.h - 8}
	// Gridlines and value labels.
	p.SetLineWidth(0.1)
	p.SetTextColor(100, 100, 100)
	for v := left.lo; v <= left.hi+left.step/2; v += left.step {
		y := left.y(v, plot)
		p.SetDrawColor(230, 230, 230)
		p.Line(plot.x, y, plot.x+plot.w, y)
		s := axisValue(left.format, v)
		d.text(plot.x-1-d.width(s), y+1, s)
	}
	if right != nil {
		for v := right.lo; v <= right.hi+right.step/2; v += right.step {
			y := right.y(v, plot)
			d.text(plot.x+plot.w+1, y+1, axisValue(right.format, v))
		}
	}
	p.SetDrawColor(120, 120, 120)
	p.SetLineWidth(0.2)
	zero := left.y(math.Max(left.lo, 0), plot)
	p.Line(plot.x, zero, plot.x+plot.w, zero)
	p.Line(plot.x, plot.y, plot.x, plot.y+plot.h)
	// Category labels, every k-th so they never overlap.
	n := len(c.Categories)
	slot := plot.w / float64(n)
	widest := 0.0
	for _, cat := range c.Categories {
		widest = math.Max(widest, d.width(trim(cat, 12)))
	}
	k := int(math.Ceil((widest + 2) / slot))
	k = max(k, 1)
	for i := 0; i < n; i += k {
		s := trim(c.Categories[i], 12)
		x := plot.x + slot*(float64(i)+0.5) - d.width(s)/2
		d.text(x, plot.y+plot.h+4, s)
	}
	// Bars, grouped per category.
	if len(barSeries) > 0 {
		group := slot * 0.7
		bw := group / float64(len(barSeries))
		for j, si := range barSeries {
			setColor(p, si, true)
			for i, v := range c.Series[si].Values {
				if i >= n {
					break
				}
				x := plot.x + slot*float64(i) + (slot-group)/2 + bw*float64(j)
				y0, y1 := left.y(0, plot), left.y(v, plot)
				p.Rect(x, math.Min(y0, y1), bw, math.Abs(y1-y0), "F")
			}
		}
	}
	// Lines, with a dot per point when there is room.
	ls := left
	if right != nil {
		ls = right
	}
	p.SetLineWidth(0.5)
	for _, si := range lineSeries {
		setColor(p, si, false)
		setColor(p, si, true)
		pts := make([]fpdf.PointType, 0, n)
		for i, v := range c.Series[si].Values {
			if i >= n {
				break
			}
			pts = append(pts, fpdf.PointType{X: plot.x + slot*(float64(i)+0.5), Y: ls.y(v, plot)})
		}
		for i := 1; i < len(pts); i++ {
			p.Line(pts[i-1].X, pts[i-1].Y, pts[i].X, pts[i].Y)
		}
		if slot > 3 {
			for _, pt := range pts {
				p.Circle(pt.X, pt.Y, 0.7, "F")
			}
		}
	}
}

// pie draws the first series as slices, with a legend of names, values and
// shares on the right.
func (d *doc) pie(c reportview.Chart, b box) {
	p := d.pdf
	s := c.Series[0]
	total := 0.0
	for _, v := range s.Values {
		if v > 0 {
			total += v
		}
	}
	r := math.Min(b.h, b.w*0.45) / 2
	cx, cy := b.x+r+4, b.y+b.h/2
	if total > 0 {
		point := func(deg float64) fpdf.PointType {
			return fpdf.PointType{X: cx + r*math.Cos(deg*math.Pi/180), Y: cy + r*math.Sin(deg*math.Pi/180)}
		}
		start := -90.0
		var edges []float64
		for i, v := range s.Values {
			if v <= 0 {
				continue
			}
			sweep := v / total * 360
			pts := []fpdf.PointType{{X: cx, Y: cy}}
			for a := start; a < start+sweep; a += 2 {
				pts = append(pts, point(a))
			}
			pts = append(pts, point(start+sweep))
			setColor(p, i, true)
			p.Polygon(pts, "F")
			edges = append(edges, start)
			start += sweep
		}
		// White lines between slices (none when one slice is the whole).
		if len(edges) > 1 {
			p.SetDrawColor(255, 255, 255)
			p.SetLineWidth(0.4)
			for _, a := range edges {
				e := point(a)
				p.Line(cx, cy, e.X, e.Y)
			}
		}
	}
	// Legend: as many entries as fit, the rest summed up by the tables.
	d.setSize(7.5)
	p.SetTextColor(40, 40, 40)
	lx := cx + r + 8
	lineH := 4.6
	rows := int(b.h / lineH)
	for i, cat := range c.Categories {
		if i >= rows || i >= len(s.Values) {
			break
		}
		y := b.y + float64(i)*lineH
		setColor(p, i, true)
		p.Rect(lx, y+0.8, 3.5, 2.5, "F")
		share := 0.0
		if total > 0 && s.Values[i] > 0 {
			share = s.Values[i] / total
		}
		d.text(lx+5, y+3, trim(cat, 18)+"  "+formatValue(s.Format, s.Values[i])+"  "+formatValue(reportview.Percent, share))
	}
}

// funnel draws one trapezoid per stage, widths proportional to the first
// series, each labelled with every series' value.
func (d *doc) funnel(c reportview.Chart, b box) {
	p := d.pdf
	s := c.Series[0]
	n := min(len(c.Categories), len(s.Values))
	if n == 0 {
		return
	}
	top := 0.0
	for _, v := range s.Values[:n] {
		top = math.Max(top, v)
	}
	if top <= 0 {
		top = 1
	}
	fw := b.w * 0.5
	mid := b.x + fw/2 + 2
	h := b.h / float64(n)
	width := func(i int) float64 {
		if i >= n {
			return math.Max(fw*0.08, width0(s.Values[n-1], top, fw)*0.6)
		}
		return math.Max(fw*0.08, width0(s.Values[i], top, fw))
	}
	d.setSize(7.5)
	for i := 0; i < n; i++ {
		w0, w1 := width(i), width(i+1)
		y := b.y + float64(i)*h
		setColor(p, i, true)
		p.SetDrawColor(255, 255, 255)
		p.Polygon([]fpdf.PointType{
			{X: mid - w0/2, Y: y}, {X: mid + w0/2, Y: y},
			{X: mid + w1/2, Y: y + h - 0.6}, {X: mid - w1/2, Y: y + h - 0.6},
		}, "FD")
		label := trim(c.Categories[i], 14)
		for _, ser := range c.Series {
			if i < len(ser.Values) {
				label += "  " + formatValue(ser.Format, ser.Values[i])
			}
		}
		p.SetTextColor(40, 40, 40)
		d.text(b.x+fw+8, y+h/2+1, label)
	}
}

func width0(v, top, fw float64) float64 { return math.Max(v, 0) / top * fw }
