package live

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"gocv.io/x/gocv"

	"github.com/vidtag/vidtag/stages"
)

// overlay writes display fps, detection fps and latency in the top-left
// corner of the shown frame (not of the recording).
type overlay struct {
	scale float64
	thick int
}

func newOverlay(h int) *overlay {
	s := math.Max(0.4, float64(h)/1080*0.8)
	return &overlay{scale: s, thick: max(1, int(math.Round(s*1.5)))}
}

func (o *overlay) draw(f *stages.Frame, l liveFigures) {
	text := fmt.Sprintf("display %.0f fps  detect %.0f fps  latency %d ms", l.displayFPS, l.detectFPS, l.latency.Milliseconds())
	size, base := gocv.GetTextSizeWithBaseline(text, gocv.FontHersheySimplex, o.scale, o.thick)
	pad := max(3, size.Y/3)
	gocv.Rectangle(&f.Mat, image.Rect(0, 0, size.X+2*pad, size.Y+base+2*pad), color.RGBA{A: 255}, -1)
	gocv.PutText(&f.Mat, text, image.Pt(pad, pad+size.Y), gocv.FontHersheySimplex, o.scale, color.RGBA{R: 255, G: 255, B: 255, A: 255}, o.thick)
}
