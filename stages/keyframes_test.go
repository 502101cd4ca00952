package stages

import (
	"context"
	"io"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"

	"github.com/vidtag/vidtag/internal/testenv"
	"github.com/vidtag/vidtag/media"
)

// A reader with KeyframesOnly converts only the keyframes to BGR, when the
// schedule marks them, to the same bytes as a reader converting every
// frame; the others never get pixels. Both carry the decoder's grey, within
// rounding of greying the BGR frame. Every held picture is freed.
func TestReaderKeyframesOnly(t *testing.T) {
	dir := t.TempDir()
	full := filepath.Join(dir, "full.mp4") // full-range luma (yuvj420p): no stretch
	ffmpeg(t, "-i", testenv.Data(t, "clips", "short_hamilton_clip.mp4"), "-t", "2", "-pix_fmt", "yuvj420p", "-c:v", "libx264", full)
	// VP9 has no J formats: a full-range stream is yuv420p flagged so,
	// which OpenCV's conversion (and so the grey) takes as video range.
	vp9 := filepath.Join(dir, "full.webm")
	ffmpeg(t, "-i", testenv.Data(t, "clips", "short_hamilton_clip.mp4"), "-t", "2", "-an", "-pix_fmt", "yuv420p", "-color_range", "pc",
		"-c:v", "libvpx-vp9", "-deadline", "realtime", "-b:v", "1M", vp9)
	tenbit := filepath.Join(dir, "10bit.mp4") // no 8-bit luma: BGR for every frame, greyed
	ffmpeg(t, "-i", testenv.Data(t, "clips", "short_hamilton_clip.mp4"), "-t", "2", "-pix_fmt", "yuv420p10le", "-c:v", "libx264", tenbit)
	cases := []struct {
		name, path string
		grey       bool // the frames come with the decoder's grey
	}{
		{"video range 4:2:0", testenv.Data(t, "clips", "short_hamilton_clip.mp4"), true},
		{"full range 4:2:0", full, true},
		{"VP9 flagged full range", vp9, true},
		{"10-bit", tenbit, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			info, err := media.Probe(ctx, c.path)
			if err != nil {
				t.Fatal(err)
			}
			open := func(keyframesOnly bool) *Reader {
				r, err := OpenReader(info, 8)
				if err != nil {
					t.Fatal(err)
				}
				r.KeyframesOnly = keyframesOnly
				return r
			}
			every, keys := open(false), open(true)
			defer every.Close()
			defer keys.Close()
			s1, s2 := NewSchedule(5, 20), NewSchedule(5, 20)
			defer s1.Close()
			defer s2.Close()
			bgrGrey, diff := gocv.NewMat(), gocv.NewMat()
			defer bgrGrey.Close()
			defer diff.Close()
			developed := 0
			for i := 0; i < 45; i++ {
				a, err := every.Next(ctx)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				b, err := keys.Next(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if a.HasGrey() != c.grey || b.HasGrey() != c.grey {
					t.Fatalf("frame %d: grey %v and %v, want %v", i, a.HasGrey(), b.HasGrey(), c.grey)
				}
				if err := s1.Process(ctx, a); err != nil {
					t.Fatal(err)
				}
				if err := s2.Process(ctx, b); err != nil {
					t.Fatal(err)
				}
				if a.Key != b.Key || a.Cut != b.Cut {
					t.Fatalf("frame %d: key %v cut %v, against %v %v", i, b.Key, b.Cut, a.Key, a.Cut)
				}
				switch {
				case b.Key || !c.grey:
					if !b.HasPixels() {
						t.Fatalf("frame %d (key %v) has no pixels", i, b.Key)
					}
					if top, _ := frameDiff(a.Mat, b.Mat, 0); top != 0 {
						t.Fatalf("frame %d: converted later, differs by up to %v", i, top)
					}
					developed++
				case b.HasPixels():
					t.Fatalf("frame %d is no keyframe but has pixels", i)
				}
				if c.grey {
					if top, _ := frameDiff(a.Grey, b.Grey, 0); top != 0 {
						t.Fatalf("frame %d: the two readers' greys differ", i)
					}
					// Where a colour channel clips, greying the BGR frame
					// loses what the luma keeps: a few levels, seldom.
					gocv.CvtColor(a.Mat, &bgrGrey, gocv.ColorBGRToGray)
					gocv.AbsDiff(a.Grey, bgrGrey, &diff)
					if mean := diff.Mean().Val1; mean > 1 {
						t.Fatalf("frame %d: the decoder's grey is %.2f levels from the BGR frame's on average", i, mean)
					}
					if top, _ := frameDiff(a.Grey, bgrGrey, 0); top > 16 {
						t.Fatalf("frame %d: the decoder's grey is up to %v from the BGR frame's", i, top)
					}
				}
				a.Release()
				b.Release()
			}
			if developed < 5 {
				t.Errorf("only %d frames converted", developed)
			}
			if n := media.HeldPictures(); n != 0 {
				t.Errorf("%d pictures still held", n)
			}
		})
	}
}
