package stages

import (
	"context"
	"fmt"
	"image"
	"testing"

	"gocv.io/x/gocv"

	"github.com/vidtag/vidtag/internal/testenv"
	"github.com/vidtag/vidtag/recog"
)

// frameOf decodes frame n of a shared clip.
func frameOf(b testing.TB, clip string, n int) gocv.Mat {
	b.Helper()
	vc, err := gocv.VideoCaptureFile(testenv.Data(b, "clips", clip+".mp4"))
	if err != nil {
		b.Fatal(err)
	}
	defer vc.Close()
	m := gocv.NewMat()
	for i := 0; i <= n; i++ {
		vc.Read(&m)
	}
	return m
}

var benchClips = []struct {
	name  string
	frame int
}{{"short_hamilton_clip", 120}, {"obama_biden_720p", 220}, {"obama_1080p", 10}}

func BenchmarkStages(b *testing.B) {
	for _, c := range benchClips {
		m := frameOf(b, c.name, c.frame)
		f := &Frame{Mat: m}
		b.Run(c.name+"/schedule", func(b *testing.B) {
			s := NewSchedule(5, 30)
			defer s.Close()
			for i := 0; i < b.N; i++ {
				s.Process(context.Background(), f)
			}
		})
		b.Run(c.name+"/flow-1face", func(b *testing.B) {
			fl := NewFlow(m.Cols(), m.Rows())
			defer fl.Close()
			box := []image.Rectangle{image.Rect(m.Cols()/3, m.Rows()/4, m.Cols()/3+m.Rows()/4, m.Rows()/2)}
			g1, g2 := gocv.NewMat(), gocv.NewMat()
			defer g1.Close()
			defer g2.Close()
			fl.Prepare(&Frame{Mat: m}, &g1)
			for i := 0; i < b.N; i++ {
				fl.Prepare(&Frame{Mat: m}, &g2)
				fl.Move(g1, g2, box)
			}
		})
		b.Run(c.name+"/draw", func(b *testing.B) {
			d := NewDraw(m.Rows())
			g := &Frame{Mat: m.Clone(), Faces: []Face{{Box: image.Rect(100, 100, 200, 200), Label: "Lin-Manuel Miranda", Known: true}}}
			defer g.Mat.Close()
			for i := 0; i < b.N; i++ {
				d.Process(context.Background(), g)
			}
		})
		for _, scale := range []float64{0.5, 1, 1.5, 2} {
			b.Run(fmt.Sprintf("%s/jpeg-%.1fx", c.name, scale), func(b *testing.B) {
				scratch := gocv.NewMat()
				defer scratch.Close()
				for i := 0; i < b.N; i++ {
					buf, _ := recog.EncodeJPEG(m, scale, 92, &scratch)
					buf.Close()
				}
			})
		}
		b.Run(c.name+"/bgr-to-i420", func(b *testing.B) {
			dst := gocv.NewMat()
			defer dst.Close()
			for i := 0; i < b.N; i++ {
				gocv.CvtColor(m, &dst, gocv.ColorBGRToYUVI420)
			}
		})
		b.Run(c.name+"/new-mat-read-size", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				n := gocv.NewMatWithSize(m.Rows(), m.Cols(), gocv.MatTypeCV8UC3)
				d, _ := n.DataPtrUint8()
				for j := 0; j < len(d); j += 4096 {
					d[j] = 1
				}
				n.Close()
			}
		})
		m.Close()
	}
}
