package stages

import (
	"context"
	"image"
	"image/color"
	"math"
	"strings"
	"unicode"

	"gocv.io/x/gocv"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Colours of known and unknown faces (gocv takes RGBA and draws in BGR).
var (
	KnownColour   = color.RGBA{R: 30, G: 170, B: 60, A: 255}
	UnknownColour = color.RGBA{R: 215, G: 50, B: 40, A: 255}
	textColour    = color.RGBA{R: 255, G: 255, B: 255, A: 255}
)

// Draw paints a box and a filled name bar for every face. Line width and
// text size follow the frame height, so labels read the same at 360p and
// at 1080p.
type Draw struct {
	thick     int
	fontScale float64
	fontThick int
	font      gocv.HersheyFont
	names     map[string]string // label -> drawable ASCII text
	// BlurredLabels draws box and name bar on blurred faces too. Off by
	// default: a name on a blurred face gives away what the blur hides,
	// and a box drawn over the blur would put sharp lines in it.
	BlurredLabels bool
}

// NewDraw sizes the drawing for frames h pixels high.
func NewDraw(h int) *Draw {
	fs := math.Max(0.45, float64(h)/1080)
	return &Draw{
		thick:     max(2, int(math.Round(float64(h)/360))),
		fontScale: fs,
		fontThick: max(1, int(math.Round(fs*1.6))),
		font:      gocv.FontHersheyDuplex,
		names:     map[string]string{},
	}
}

// Process draws f.Faces onto f.Mat; a blurred face gets nothing unless
// BlurredLabels is set.
func (d *Draw) Process(_ context.Context, f *Frame) error {
	for _, face := range f.Faces {
		if face.Blurred && !d.BlurredLabels {
			continue
		}
		c := UnknownColour
		if face.Known {
			c = KnownColour
		}
		// dlib's right and bottom are inclusive; OpenCV's rectangle end is too.
		gocv.Rectangle(&f.Mat, face.Box, c, d.thick)
		text := d.text(face.Label)
		size, base := gocv.GetTextSizeWithBaseline(text, d.font, d.fontScale, d.fontThick)
		pad := max(2, size.Y/4)
		barH := size.Y + base + 2*pad
		// The bar sits on top of the box, or under it when the box touches the top.
		top := face.Box.Min.Y - barH
		if top < 0 {
			top = face.Box.Max.Y
		}
		// Left-aligned with the box, but never past the frame's right edge.
		barW := size.X + 2*pad
		left := max(0, min(face.Box.Min.X-d.thick/2, f.Mat.Cols()-barW))
		bar := image.Rect(left, top, left+barW, top+barH)
		gocv.Rectangle(&f.Mat, bar, c, -1)
		gocv.PutText(&f.Mat, text, image.Pt(bar.Min.X+pad, bar.Max.Y-pad-base), d.font, d.fontScale, textColour, d.fontThick)
	}
	return nil
}

// text returns what OpenCV's Hershey fonts can draw: ASCII only, so accents
// are stripped ("José" -> "Jose") and other letters become '?'.
func (d *Draw) text(label string) string {
	if s, ok := d.names[label]; ok {
		return s
	}
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	s, _, _ := transform.String(t, label)
	s = strings.Map(func(r rune) rune {
		if r > unicode.MaxASCII || !unicode.IsPrint(r) {
			return '?'
		}
		return r
	}, s)
	d.names[label] = s
	return s
}
