package live_test

import (
	"context"
	"image"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"

	"github.com/vidtag/vidtag/blur"
	"github.com/vidtag/vidtag/internal/testengine"
	"github.com/vidtag/vidtag/internal/testenv"
	"github.com/vidtag/vidtag/live"
	"github.com/vidtag/vidtag/settings"
)

// TestBlurInWindowAndRecording: with --blur all, every face live tracks is
// hidden in the frame the window shows and in the --record file, and gets
// no box or name. The solid style makes a hidden face easy to see: black.
func TestBlurInWindowAndRecording(t *testing.T) {
	env := testengine.Env(t, 2)
	record := filepath.Join(t.TempDir(), "rec.mp4")
	opt := settings.Defaults().Live()
	opt.Source = live.Source{Camera: -1, Input: testenv.Data(t, "clips", "short_hamilton_clip.mp4")}
	opt.Record = record
	opt.Tag.Blur, opt.Tag.BlurStyle = blur.Policy{Mode: blur.All}, blur.Solid
	s, err := live.Start(context.Background(), env, opt)
	if err != nil {
		t.Fatal(err)
	}
	// The padded regions of each shown frame, in order: the recording
	// holds the same frames.
	var shown [][]image.Rectangle
	faces, dark := 0, 0
	for f := range s.Frames() {
		s.Shown(f)
		var regions []image.Rectangle
		for _, face := range f.Faces {
			faces++
			if !face.Blurred {
				t.Errorf("frame %d: face %v (%s) not blurred", f.Seq, face.Box, face.Label)
			}
			r := blur.Pad(face.Box, f.Mat.Cols(), f.Mat.Rows())
			regions = append(regions, r)
			if c := centre(f.Mat, r); c <= 8 {
				dark++
			}
		}
		shown = append(shown, regions)
		f.Release()
	}
	if _, err := s.Wait(); err != nil {
		t.Fatal(err)
	}
	if faces < 100 || dark != faces {
		t.Errorf("window: %d of %d faces hidden, want all of at least 100", dark, faces)
	}
	if s.Recorded != len(shown) {
		t.Fatalf("recorded %d frames, shown %d", s.Recorded, len(shown))
	}
	vc, err := gocv.VideoCaptureFile(record)
	if err != nil {
		t.Fatal(err)
	}
	defer vc.Close()
	m := gocv.NewMat()
	defer m.Close()
	recFaces, recDark := 0, 0
	for i := range shown {
		if !vc.Read(&m) {
			t.Fatalf("recording ends at frame %d of %d", i, len(shown))
		}
		for _, r := range shown[i] {
			recFaces++
			if c := centre(m, r); c <= 16 { // x264's rounding
				recDark++
			}
		}
	}
	if recDark != recFaces {
		t.Errorf("recording: %d of %d faces hidden", recDark, recFaces)
	}
}

// centre is the brightest channel of the pixel at r's centre.
func centre(m gocv.Mat, r image.Rectangle) uint8 {
	v := m.GetVecbAt((r.Min.Y+r.Max.Y)/2, (r.Min.X+r.Max.X)/2)
	return max(v[0], v[1], v[2])
}
