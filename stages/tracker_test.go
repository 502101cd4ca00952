package stages

import (
	"context"
	"image"
	"testing"

	"gocv.io/x/gocv"

	"github.com/vidtag/vidtag/gallery"
	"github.com/vidtag/vidtag/recog"
	"github.com/vidtag/vidtag/track"
)

// movingPatch draws frame i of a synthetic shot: a textured 48x48 patch
// moving 4 px right a frame over a flat background. texture is the patch's
// pixels (the same every frame, so optical flow can follow it).
func movingPatch(texture gocv.Mat, i int) (gocv.Mat, image.Rectangle) {
	box := patchBox(i)
	return scene(320, 240, pasted{texture, box}), box
}

// patchBox is where movingPatch draws the patch on frame i.
func patchBox(i int) image.Rectangle { return image.Rect(40+4*i, 96, 40+4*i+48, 96+48) }

// pushAll runs frames through tr in order and flushes it: every frame it
// gave back, in the order it gave them. The caller releases them.
func pushAll(t *testing.T, tr *Track, frames []*Frame) []*Frame {
	t.Helper()
	var done []*Frame
	for _, f := range frames {
		out, err := tr.Push(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		done = append(done, out...)
	}
	out, err := tr.Flush(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return append(done, out...)
}

// TestObserveAtCarriesLateDetections: a detection made on an earlier frame
// (live's detector finishes frames late) is carried to the current frame
// by optical flow before it is merged; one from before a shot cut is
// dropped; one older than the kept flow images is merged where it was
// found.
func TestObserveAtCarriesLateDetections(t *testing.T) {
	noMatsLeft(t)
	texture := texturedPatch(48, 1)
	defer texture.Close()

	tests := []struct {
		name     string
		keep     int
		cut      int // frame that starts a new shot (0: none)
		detected int // the frame the detection was made on
		wantAt   int // the frame whose box the face should have (-1: no face)
	}{
		{"carried forward", 64, 0, 4, 10},
		{"same frame", 64, 0, 10, 10},
		{"before a cut: dropped", 64, 6, 4, -1},
		{"older than the kept flow images: merged where found", 2, 0, 4, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := NewTrack(track.DefaultConfig(), gallery.New(nil, nil), 320, 240, 0)
			tr.Keep = tt.keep
			defer tr.Close()
			boxes := map[int]image.Rectangle{}
			var last *Frame
			for i := 0; i <= 10; i++ {
				m, box := movingPatch(texture, i)
				boxes[i] = box
				f := NewFrame(i, 0, m, nil)
				f.Cut = i == tt.cut && tt.cut > 0
				if i == 10 {
					f.Late = []Detected{{Seq: tt.detected, Detections: []recog.Detection{{Box: boxes[tt.detected], Score: 0.99}}}}
				}
				out, err := tr.Push(context.Background(), f)
				if err != nil {
					t.Fatal(err)
				}
				if len(out) != 1 || out[0] != f {
					t.Fatalf("frame %d: look-ahead 0 should pass each frame on at once, got %d", i, len(out))
				}
				if i < 10 {
					f.Release()
				}
				last = f
			}
			defer last.Release()
			if tt.wantAt < 0 {
				if len(last.Faces)+len(last.Unlisted) != 0 {
					t.Fatalf("faces %v, want none", last.Faces)
				}
				return
			}
			if len(last.Faces) != 1 {
				t.Fatalf("faces %v, want one", last.Faces)
			}
			got, want := last.Faces[0].Box, boxes[tt.wantAt]
			if d := got.Min.Sub(want.Min); d.X*d.X+d.Y*d.Y > 9 || !last.Faces[0].Detected {
				t.Errorf("face at %v (detected %v), want near %v", got, last.Faces[0].Detected, want)
			}
		})
	}
}

// TestFrameMove: a moved frame's husk releases nothing, and the new frame
// owns the pixels (the matprofile leak tests count the Mats).
func TestFrameMove(t *testing.T) {
	noMatsLeft(t)
	var pool MatPool
	defer pool.Close()
	m := pool.Get()
	f := NewFrame(3, 0, m, &pool)
	f.Faces = []Face{{Label: "x"}}
	g := f.Move()
	f.Release()
	if pool.Out() != 1 {
		t.Fatalf("the husk's Release gave the Mat back: %d out", pool.Out())
	}
	if g.Seq != 3 || len(g.Faces) != 1 || len(f.Faces) != 0 {
		t.Fatalf("moved %+v, husk %+v", g, f)
	}
	g.Release()
	if pool.Out() != 0 {
		t.Fatalf("%d Mats out after the receiver's Release", pool.Out())
	}
}

// TestFrameDropPixels: DropPixels gives the buffer back at once; Release
// afterwards gives nothing back twice; a moved husk drops nothing.
func TestFrameDropPixels(t *testing.T) {
	noMatsLeft(t)
	var pool MatPool
	defer pool.Close()
	f := NewFrame(0, 0, pool.Get(), &pool)
	f.DropPixels()
	f.DropPixels()
	if pool.Out() != 0 || f.HasPixels() {
		t.Fatalf("after DropPixels: %d out, HasPixels %v", pool.Out(), f.HasPixels())
	}
	f.Release()
	if pool.Out() != 0 || len(pool.free) != 1 {
		t.Fatalf("Release after DropPixels: %d out, %d free (want 0, 1)", pool.Out(), len(pool.free))
	}
	g := NewFrame(1, 0, pool.Get(), &pool)
	h := g.Move()
	g.DropPixels()
	if pool.Out() != 1 || !h.HasPixels() {
		t.Fatalf("a husk's DropPixels: %d out, the receiver has pixels %v", pool.Out(), h.HasPixels())
	}
	h.Release()
	if pool.Out() != 0 {
		t.Fatalf("%d out after the receiver's Release", pool.Out())
	}
}
