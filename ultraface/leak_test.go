//go:build matprofile

package ultraface

import (
	"image"
	"testing"

	"gocv.io/x/gocv"
)

// TestLeakDetectClosesItsScratch: Detect closes every Mat it makes (the
// canvas, the resized window and each halving of the frame), whatever plan
// it runs: the whole frame alone, the whole frame and tiles, one turn's
// tile. A deferred close that saw only the levels made before the defer
// once left three halvings of every 1080p keyframe open.
func TestLeakDetectClosesItsScratch(t *testing.T) {
	d, img := detector(t), obama1080p(t)
	for _, size := range []image.Point{{1920, 1080}, {1280, 720}, {640, 360}, {1281, 721}} {
		frame := gocv.NewMat()
		gocv.Resize(img, &frame, size, 0, 0, gocv.InterpolationArea)
		full := NewPlan(size.X, size.Y, 29)
		for _, plan := range []Plan{NewPlan(size.X, size.Y, 200), full, full.Turn(1), full.Turn(2)} {
			before := gocv.MatProfile.Count()
			if _, err := d.Detect(frame, plan); err != nil {
				t.Fatal(err)
			}
			if n := gocv.MatProfile.Count() - before; n != 0 {
				t.Errorf("%v, %d windows: %d Mats left open", size, len(plan.Windows), n)
			}
		}
		frame.Close()
	}
}
