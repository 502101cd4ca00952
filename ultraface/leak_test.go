//go:build matprofile

package ultraface

import (
	"image"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"

	"github.com/vidtag/vidtag/internal/testenv"
)

// TestLeakDetectClosesItsScratch: a detector keeps its scratch Mats (the
// canvas, the tensor, the resized window, the halvings of the frame) from
// call to call, whatever plan it runs: the whole frame alone, the whole
// frame and tiles, one turn's tile, on frames of every size. Calls make no
// Mats once the halvings a size needs exist, and Close frees them all.
func TestLeakDetectClosesItsScratch(t *testing.T) {
	img := obama1080p(t)
	base := gocv.MatProfile.Count()
	d, err := New(filepath.Join(testenv.Models(t), "fr_detect.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []image.Point{{1920, 1080}, {1280, 720}, {640, 360}, {1281, 721}} {
		frame := gocv.NewMat()
		gocv.Resize(img, &frame, size, 0, 0, gocv.InterpolationArea)
		full := NewPlan(size.X, size.Y, 29)
		for _, plan := range []Plan{NewPlan(size.X, size.Y, 200), full, full.Turn(1), full.Turn(2)} {
			if _, err := d.Detect(frame, plan); err != nil {
				t.Fatal(err)
			}
			before := gocv.MatProfile.Count()
			if _, err := d.Detect(frame, plan); err != nil {
				t.Fatal(err)
			}
			if n := gocv.MatProfile.Count() - before; n != 0 {
				t.Errorf("%v, %d windows: a second call left %d more Mats open", size, len(plan.Windows), n)
			}
		}
		frame.Close()
	}
	d.Close()
	if n := gocv.MatProfile.Count() - base; n != 0 {
		t.Errorf("%d Mats left open after Close", n)
	}
}
