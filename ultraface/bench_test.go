package ultraface

import (
	"image"
	"testing"

	"gocv.io/x/gocv"
)

// BenchmarkDetect times Detect on one frame per plan: the whole frame
// alone and with its tiles, at the shared clips' sizes.
func BenchmarkDetect(b *testing.B) {
	SetThreads(1)
	d, img := detector(b), obama1080p(b)
	for _, size := range []image.Point{{640, 360}, {1280, 720}, {1920, 1080}} {
		frame := gocv.NewMat()
		gocv.Resize(img, &frame, size, 0, 0, gocv.InterpolationArea)
		full := NewPlan(size.X, size.Y, 29)
		for name, plan := range map[string]Plan{"whole": full.Turn(1), "full": full} {
			b.Run(name+"/"+image.Rect(0, 0, size.X, size.Y).Size().String(), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					if _, err := d.Detect(frame, plan); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N)/float64(len(plan.Windows)), "ms/window")
			})
		}
		frame.Close()
	}
}
