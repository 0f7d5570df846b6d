package repsim

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"unicode"
)

// Line is one series of a plot.
type Line struct {
	Label string
	Color color.RGBA
	Y     []float64 // one value per x = 1, 2, …
}

// Plot is a line chart with a y range of [0, YMax].
type Plot struct {
	Title  string
	XLabel string
	YLabel string
	YMax   float64
	Lines  []Line
}

// MethodColor is the colour each method is drawn in.
var MethodColor = map[Method]color.RGBA{
	MethodMeme:    {R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
	MethodUniform: {R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	MethodStake:   {R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
}

// glyphs is a 3×5 bitmap font: five rows of three pixels per character,
// '#' set. Text is upper-cased before drawing; unknown runes draw blank.
var glyphs = map[rune]string{
	'A': ".#.#.#####.##.#", 'B': "##.#.###.#.###.", 'C': ".###..#..#...##",
	'D': "##.#.##.##.###.", 'E': "####..##.#..###", 'F': "####..##.#..#..",
	'G': ".###..#.##.#.##", 'H': "#.##.#####.##.#", 'I': "###.#..#..#.###",
	'J': "..#..#..##.#.#.", 'K': "#.##.###.#.##.#", 'L': "#..#..#..#..###",
	'M': "#.########.##.#", 'N': "##.#.##.##.##.#", 'O': ".#.#.##.##.#.#.",
	'P': "##.#.###.#..#..", 'Q': ".#.#.##.###..##", 'R': "##.#.###.#.##.#",
	'S': ".###...#...###.", 'T': "###.#..#..#..#.", 'U': "#.##.##.##.####",
	'V': "#.##.##.##.#.#.", 'W': "#.##.########.#", 'X': "#.##.#.#.#.##.#",
	'Y': "#.##.#.#..#..#.", 'Z': "###..#.#.#..###", '0': "####.##.##.####",
	'1': ".#.##..#..#.###", '2': "###..#####..###", '3': "###..####..####",
	'4': "#.##.####..#..#", '5': "####..###..####", '6': "####..####.####",
	'7': "###..#..#.#..#.", '8': "####.#####.####", '9': "####.####..####",
	'.': ".............#.", '-': "......###......", '%': "#.#..#.#.#..#.#",
	'=': "...###...###...", '/': "..#..#.#.#..#..", '(': ".#.#..#..#...#.",
	')': ".#...#..#..#.#.", ':': "....#.....#....", 'β': "##.#.###.#.###.",
	',': "..........#.#..",
}

type canvas struct{ img *image.RGBA }

func (c canvas) set(x, y int, col color.RGBA) {
	if image.Pt(x, y).In(c.img.Rect) {
		c.img.SetRGBA(x, y, col)
	}
}

func (c canvas) rect(x0, y0, x1, y1 int, col color.RGBA) {
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			c.set(x, y, col)
		}
	}
}

// line draws a segment of the given thickness (Bresenham).
func (c canvas) line(x0, y0, x1, y1, thick int, col color.RGBA) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := sign(x1-x0), sign(y1-y0)
	e := dx + dy
	for i := 0; i < 1<<20; i++ {
		c.rect(x0-thick/2, y0-thick/2, x0-thick/2+thick, y0-thick/2+thick, col)
		if x0 == x1 && y0 == y1 {
			return
		}
		e2 := 2 * e
		if e2 >= dy {
			e += dy
			x0 += sx
		}
		if e2 <= dx {
			e += dx
			y0 += sy
		}
	}
}

// text draws s with its top-left corner at (x, y), each font pixel scale
// pixels wide; it returns the width drawn.
func (c canvas) text(x, y, scale int, s string, col color.RGBA) int {
	x0 := x
	for _, r := range s {
		if r != 'β' {
			r = unicode.ToUpper(r)
		}
		if g, ok := glyphs[r]; ok {
			for i := range 15 {
				if g[i] == '#' {
					c.rect(x+(i%3)*scale, y+(i/3)*scale, x+(i%3+1)*scale, y+(i/3+1)*scale, col)
				}
			}
		}
		x += 4 * scale
	}
	return x - x0
}

func textWidth(s string, scale int) int { return len([]rune(s)) * 4 * scale }

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func sign(v int) int {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

// WritePlot renders p as a 900×500 PNG: axes with ticks, one polyline per
// line (x scaled to the longest series), a title and a legend, with the
// standard library's image/png only.
func WritePlot(w io.Writer, p Plot) error {
	const W, H = 900, 500
	const left, right, top, bottom = 80, 20, 50, 60
	img := image.NewRGBA(image.Rect(0, 0, W, H))
	c := canvas{img}
	white := color.RGBA{0xff, 0xff, 0xff, 0xff}
	black := color.RGBA{0, 0, 0, 0xff}
	grey := color.RGBA{0xdd, 0xdd, 0xdd, 0xff}
	c.rect(0, 0, W, H, white)
	pw, ph := W-left-right, H-top-bottom
	ymax := p.YMax
	if !(ymax > 0) {
		ymax = 1
	}
	n := 0
	for _, l := range p.Lines {
		n = max(n, len(l.Y))
	}
	if n < 2 {
		n = 2
	}
	px := func(i int) int { return left + int(math.Round(float64(i)*float64(pw)/float64(n-1))) }
	py := func(v float64) int {
		v = math.Max(0, math.Min(ymax, v))
		return top + ph - int(math.Round(v/ymax*float64(ph)))
	}
	// Grid and y ticks.
	for t := 0; t <= 5; t++ {
		v := ymax * float64(t) / 5
		y := py(v)
		c.line(left, y, left+pw, y, 1, grey)
		label := fmt.Sprintf("%.0f%%", 100*v)
		if ymax < 0.1 {
			label = fmt.Sprintf("%.1f%%", 100*v)
		}
		c.text(left-8-textWidth(label, 2), y-5, 2, label, black)
	}
	// x ticks.
	for t := 0; t <= 5; t++ {
		i := (n - 1) * t / 5
		x := px(i)
		c.line(x, top+ph, x, top+ph+6, 1, black)
		label := fmt.Sprintf("%d", i+1)
		c.text(x-textWidth(label, 2)/2, top+ph+10, 2, label, black)
	}
	c.line(left, top, left, top+ph, 2, black)
	c.line(left, top+ph, left+pw, top+ph, 2, black)
	c.text(left, 15, 3, p.Title, black)
	c.text(left+pw-textWidth(p.XLabel, 2), H-20, 2, p.XLabel, black)
	c.text(8, top-16, 2, p.YLabel, black)
	for _, l := range p.Lines {
		for i := 1; i < len(l.Y); i++ {
			c.line(px(i-1), py(l.Y[i-1]), px(i), py(l.Y[i]), 2, l.Color)
		}
	}
	// Legend, top right.
	lx, ly := left+pw-260, top+10
	c.rect(lx-8, ly-8, left+pw-4, ly+len(p.Lines)*22, white)
	for i, l := range p.Lines {
		y := ly + i*22
		c.rect(lx, y, lx+24, y+10, l.Color)
		c.text(lx+32, y, 2, l.Label, black)
	}
	if err := png.Encode(w, img); err != nil {
		return fmt.Errorf("encode plot PNG: %w", err)
	}
	return nil
}

// Smooth returns the trailing moving average of y over window points.
func Smooth(y []float64, window int) []float64 {
	out := make([]float64, len(y))
	var s float64
	for i, v := range y {
		s += v
		if i >= window {
			s -= y[i-window]
		}
		out[i] = s / float64(min(i+1, window))
	}
	return out
}

// SeatSharePlot builds the plot of attacker seat share over rounds for one
// scenario, Byzantine share and committee size, one line per method,
// smoothed over Rounds/100 rounds (at least 1).
func (rep *Report) SeatSharePlot(sc Scenario, beta, k int) (Plot, bool) {
	p := Plot{
		Title:  fmt.Sprintf("%s: attacker seat share, β=%d%%, k=%d", sc, beta, k),
		XLabel: "round",
		YLabel: "seat share",
	}
	window := max(1, rep.Params.Rounds/100)
	ymax := 0.0
	for _, m := range rep.Params.Methods {
		r, ok := rep.Find(sc, beta, k, m)
		if !ok {
			continue
		}
		y := Smooth(r.Series, window)
		for _, v := range y {
			ymax = math.Max(ymax, v)
		}
		p.Lines = append(p.Lines, Line{Label: string(m), Color: MethodColor[m], Y: y})
	}
	// Headroom of a third above the highest point keeps the lines clear of
	// the legend in the top right corner.
	p.YMax = math.Max(0.05, math.Ceil(ymax*1.35*20)/20)
	return p, len(p.Lines) > 0
}

// CaptureSeries is one line of a capture plot: one observed capture rate
// per committee size of the plot.
type CaptureSeries struct {
	Label string
	Color color.RGBA
	P     []Proportion // index as CapturePlot.Ks
}

// CapturePlot is the committee-size figure: observed capture rate against
// k on a log scale from Floor to 1, with 95 % intervals as bars.
type CapturePlot struct {
	Title  string
	Ks     []int
	Floor  float64 // lowest rate drawn (default 1e-6)
	Series []CaptureSeries
}

// WriteCapturePlot renders p as a 900×500 PNG. Observed rates are filled
// squares joined by lines; a rate of zero is drawn at its upper bound as a
// hollow square, joined to nothing, with its bar reaching down to the
// floor: the rounds run show only that the rate lies below it.
func WriteCapturePlot(w io.Writer, p CapturePlot) error {
	const W, H = 900, 500
	const left, right, top, bottom = 90, 30, 50, 60
	img := image.NewRGBA(image.Rect(0, 0, W, H))
	c := canvas{img}
	white := color.RGBA{0xff, 0xff, 0xff, 0xff}
	black := color.RGBA{0, 0, 0, 0xff}
	grey := color.RGBA{0xdd, 0xdd, 0xdd, 0xff}
	c.rect(0, 0, W, H, white)
	pw, ph := W-left-right, H-top-bottom
	floor := p.Floor
	if !(floor > 0 && floor < 1) {
		floor = 1e-6
	}
	decades := -math.Log10(floor)
	py := func(v float64) int {
		l := math.Log10(math.Max(v, floor))
		l = math.Min(0, l)
		return top + int(math.Round(-l/decades*float64(ph)))
	}
	n := len(p.Ks)
	px := func(i int) int {
		if n < 2 {
			return left + pw/2
		}
		return left + 30 + int(math.Round(float64(i)*float64(pw-60)/float64(n-1)))
	}
	for d := 0; d <= int(decades); d++ {
		y := py(math.Pow(10, -float64(d)))
		c.line(left, y, left+pw, y, 1, grey)
		label := fmt.Sprintf("1E-%d", d)
		if d == 0 {
			label = "1"
		}
		c.text(left-8-textWidth(label, 2), y-5, 2, label, black)
	}
	for i, k := range p.Ks {
		x := px(i)
		c.line(x, top+ph, x, top+ph+6, 1, black)
		label := fmt.Sprintf("%d", k)
		c.text(x-textWidth(label, 2)/2, top+ph+10, 2, label, black)
	}
	c.line(left, top, left, top+ph, 2, black)
	c.line(left, top+ph, left+pw, top+ph, 2, black)
	c.text(left, 15, 3, p.Title, black)
	c.text(left+pw-textWidth("committee size k", 2), H-20, 2, "committee size k", black)
	c.text(8, top-16, 2, "captured rounds", black)
	for si, s := range p.Series {
		dx := (si - len(p.Series)/2) * 3 // keep overlapping bars apart
		prev := [2]int{-1, -1}
		for i, pr := range s.P {
			if i >= n || pr.Trials == 0 {
				prev = [2]int{-1, -1}
				continue
			}
			x := px(i) + dx
			v := pr.Rate()
			if pr.Events == 0 {
				v = pr.CI.Hi
			}
			y := py(v)
			c.line(x, py(pr.CI.Lo), x, py(pr.CI.Hi), 1, s.Color)
			if pr.Events == 0 {
				// An upper bound, not a rate: hollow, and no line to it.
				c.rect(x-5, y-5, x+5, y+5, s.Color)
				c.rect(x-3, y-3, x+3, y+3, white)
				prev = [2]int{-1, -1}
				continue
			}
			c.rect(x-4, y-4, x+4, y+4, s.Color)
			if prev[0] >= 0 {
				c.line(prev[0], prev[1], x, y, 2, s.Color)
			}
			prev = [2]int{x, y}
		}
	}
	lx, ly := left+pw-300, top+ph-len(p.Series)*22-10
	c.rect(lx-8, ly-8, left+pw-4, ly+len(p.Series)*22, white)
	for i, s := range p.Series {
		y := ly + i*22
		c.rect(lx, y, lx+24, y+10, s.Color)
		c.text(lx+32, y, 2, s.Label, black)
	}
	if err := png.Encode(w, img); err != nil {
		return fmt.Errorf("encode capture plot PNG: %w", err)
	}
	return nil
}

// shade mixes col with white: f = 0 keeps it, f = 1 gives white.
func shade(col color.RGBA, f float64) color.RGBA {
	mix := func(v uint8) uint8 { return uint8(math.Round(float64(v) + f*(255-float64(v)))) }
	return color.RGBA{mix(col.R), mix(col.G), mix(col.B), 0xff}
}

// CaptureVsKPlot builds the committee-size figure for a scenario: one line
// per method and β (lighter for smaller β), over the committee sizes run.
func (rep *Report) CaptureVsKPlot(sc Scenario) (CapturePlot, bool) {
	p := CapturePlot{Title: fmt.Sprintf("%s: captured rounds against k", sc), Ks: rep.Params.Committees}
	betas := rep.Params.ScenarioByzantine
	if sc == ScenarioStatic {
		betas = rep.Params.Byzantine
	}
	minRate := 1.0
	for _, m := range []Method{MethodUniform, MethodMeme} {
		for bi, beta := range betas {
			s := CaptureSeries{Label: fmt.Sprintf("%s β=%d%%", m, beta),
				Color: shade(MethodColor[m], 0.55*float64(len(betas)-1-bi)/math.Max(1, float64(len(betas)-1)))}
			found := false
			for _, k := range p.Ks {
				r, ok := rep.Find(sc, beta, k, m)
				c := captureOf(r)
				if ok {
					found = true
					if v := c.CI.Hi; v > 0 {
						minRate = math.Min(minRate, v)
					}
					if c.Events > 0 && c.CI.Lo > 0 {
						minRate = math.Min(minRate, c.CI.Lo)
					}
				}
				s.P = append(s.P, c)
			}
			if found {
				p.Series = append(p.Series, s)
			}
		}
	}
	p.Floor = math.Pow(10, math.Floor(math.Log10(minRate))-1)
	return p, len(p.Series) > 0
}
