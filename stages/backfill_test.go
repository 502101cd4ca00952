package stages

import (
	"context"
	"image"
	"testing"

	"github.com/vidtag/vidtag/gallery"
	"github.com/vidtag/vidtag/recog"
	"github.com/vidtag/vidtag/track"
)

// TestTrackBackfill: a face the detector first finds at a later keyframe is
// written back onto the held frames before it, down to where it appeared,
// a keyframe that looked where it is, or a shot cut; with BlurBackfill past
// such keyframes, into Unlisted; not at all with no look-ahead.
func TestTrackBackfill(t *testing.T) {
	noMatsLeft(t)
	texture := texturedPatch(48, 3)
	defer texture.Close()
	right := image.Rect(160, 0, 320, 240) // where a right-half tile looks (the face stays left)

	tests := []struct {
		name      string
		lookahead int
		blur      bool
		appears   int          // first frame showing the face
		found     int          // first keyframe whose detection has it
		cut       int          // a frame that starts a shot (0: none)
		sees      map[int]bool // keyframes that looked only at the right half (else everywhere)
		score     float32      // detection score (0.99 confirms at once)
		want      string       // per frame: '.' no face, 'F' in Faces, 'u' in Unlisted only
	}{
		{"appears between keyframes", 10, false, 3, 5, 0, nil, 0.99, "...FFFFFFFFF"},
		{"missed at the keyframe before", 10, false, 0, 5, 0, nil, 0.99, ".FFFFFFFFFFF"},
		{"missed twice", 10, false, 0, 10, 0, nil, 0.99, "......FFFFFF"},
		{"the keyframe before looked elsewhere", 10, false, 0, 5, 0, map[int]bool{0: true}, 0.99, "FFFFFFFFFFFF"},
		{"a tile turn passed, a full keyframe stops", 10, false, 0, 10, 0, map[int]bool{5: true}, 0.99, ".FFFFFFFFFFF"},
		// the frame of a cut is a keyframe that looked everywhere (Schedule)
		{"stops at a cut", 10, false, 0, 5, 3, nil, 0.99, "....FFFFFFFF"},
		{"blur: on past missed keyframes, unlisted", 10, true, 0, 10, 0, nil, 0.99, "uuuuuuFFFFFF"},
		{"blur: not past a cut", 10, true, 0, 10, 3, nil, 0.99, "...uuuFFFFFF"},
		{"unconfirmed: backfilled but unlisted", 10, false, 3, 5, 0, nil, 0.5, "...uuuuuuuuu"},
		{"no look-ahead: nothing back", 0, false, 3, 5, 0, nil, 0.99, ".....FFFFFFF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := NewTrack(track.DefaultConfig(), gallery.New(nil, nil), 320, 240, tt.lookahead)
			tr.BlurBackfill = tt.blur
			defer tr.Close()
			frames := make([]*Frame, 12)
			for i := range frames {
				m := scene(320, 240) // before the face appears
				if i >= tt.appears {
					m.Close()
					m, _ = movingPatch(texture, i)
				}
				f := NewFrame(i, 0, m, nil)
				f.Key = i%5 == 0 || i == tt.cut && tt.cut > 0
				f.Cut = i == tt.cut && tt.cut > 0
				if tt.sees[i] {
					f.Sees = func(b image.Rectangle) bool { return b.In(right) }
				}
				if f.Key && i >= tt.found {
					f.Detections = []recog.Detection{{Box: patchBox(i), Score: tt.score}}
				}
				frames[i] = f
			}
			done := pushAll(t, tr, frames)
			defer func() {
				for _, f := range done {
					f.Release()
				}
			}()
			if len(done) != 12 {
				t.Fatalf("%d frames out of 12", len(done))
			}
			got := make([]byte, len(done))
			for i, f := range done {
				if f.Seq != i {
					t.Fatalf("frame %d came out as %d", f.Seq, i)
				}
				faces := append(append([]Face(nil), f.Faces...), f.Unlisted...)
				got[i] = '.'
				switch {
				case len(faces) > 1:
					t.Fatalf("frame %d: %d faces, want at most one", i, len(faces))
				case len(f.Faces) == 1:
					got[i] = 'F'
				case len(f.Unlisted) == 1:
					got[i] = 'u'
				}
				if len(faces) == 1 {
					if d := faces[0].Box.Min.Sub(patchBox(i).Min); d.X*d.X+d.Y*d.Y > 4 {
						t.Errorf("frame %d: face at %v, the patch is at %v", i, faces[0].Box, patchBox(i))
					}
					if faces[0].Track != faces[len(faces)-1].Track {
						t.Errorf("frame %d: track %d", i, faces[0].Track)
					}
				}
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestTrackBackfillStopsAtAFace: a new track is not written back onto a
// frame where it would overlap a face already there (the detector's second
// box on a face the tracker already follows starts a track of its own).
func TestTrackBackfillStopsAtAFace(t *testing.T) {
	noMatsLeft(t)
	texture := texturedPatch(48, 3)
	defer texture.Close()
	tr := NewTrack(track.DefaultConfig(), gallery.New(nil, nil), 320, 240, 10)
	defer tr.Close()
	frames := make([]*Frame, 8)
	for i := range frames {
		m, _ := movingPatch(texture, i)
		f := NewFrame(i, 0, m, nil)
		f.Key = i%5 == 0
		switch i {
		case 0:
			f.Detections = []recog.Detection{{Box: patchBox(i), Score: 0.99}}
		case 5: // the face again, and a second box shifted a quarter of it
			f.Detections = []recog.Detection{{Box: patchBox(i), Score: 0.99}, {Box: patchBox(i).Add(image.Pt(12, 0)), Score: 0.99}}
		}
		frames[i] = f
	}
	done := pushAll(t, tr, frames)
	defer func() {
		for _, f := range done {
			f.Release()
		}
	}()
	for i, f := range done {
		want := 1
		if i >= 5 {
			want = 2
		}
		if len(f.Faces) != want || len(f.Unlisted) != 0 {
			t.Errorf("frame %d: %d faces (%d unlisted), want %d", i, len(f.Faces), len(f.Unlisted), want)
		}
	}
}

// TestTrackDropPixels: with DropPixels (a sidecar-only run), a frame gives
// its buffer back to the pool as it enters the look-ahead unless the
// detector found a face on it (the people file crops those); the faces
// the frames come out with are the same as without; every buffer comes
// back once.
func TestTrackDropPixels(t *testing.T) {
	noMatsLeft(t)
	texture := texturedPatch(48, 3)
	defer texture.Close()
	run := func(drop bool) (faces [][]Face, pixels string, held int) {
		var pool MatPool
		defer pool.Close()
		tr := NewTrack(track.DefaultConfig(), gallery.New(nil, nil), 320, 240, 8)
		tr.DropPixels = drop
		defer tr.Close()
		var done []*Frame
		for i := range 12 {
			m, _ := movingPatch(texture, i)
			buf := pool.Get()
			m.CopyTo(&buf)
			m.Close()
			f := NewFrame(i, 0, buf, &pool)
			f.Key = i%5 == 0
			if f.Key && i > 0 { // the face is found at keyframe 5, followed back to 0
				f.Detections = []recog.Detection{{Box: patchBox(i), Score: 0.99}}
			}
			out, err := tr.Push(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			held = max(held, pool.Out())
			done = append(done, out...)
		}
		out, err := tr.Flush(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range append(done, out...) {
			faces = append(faces, append([]Face(nil), f.Faces...))
			switch {
			case !f.HasPixels():
				pixels += "."
			case f.Mat.Empty():
				t.Fatalf("frame %d: HasPixels, but its Mat is empty", f.Seq)
			default:
				pixels += "P"
			}
			f.Release()
		}
		if n := pool.Out(); n != 0 {
			t.Errorf("drop %v: %d buffers out after every frame's Release", drop, n)
		}
		return faces, pixels, held
	}
	keptFaces, keptPixels, keptHeld := run(false)
	faces, pixels, held := run(true)
	if keptPixels != "PPPPPPPPPPPP" {
		t.Errorf("without DropPixels: pixels %s, want every frame's", keptPixels)
	}
	if want := ".....P....P."; pixels != want {
		t.Errorf("with DropPixels: pixels %s, want %s (the keyframes that found the face)", pixels, want)
	}
	if held >= keptHeld {
		t.Errorf("with DropPixels at most %d buffers out at once, without %d", held, keptHeld)
	}
	if len(faces) != len(keptFaces) {
		t.Fatalf("%d frames out, %d without DropPixels", len(faces), len(keptFaces))
	}
	for i := range faces {
		if len(faces[i]) != len(keptFaces[i]) {
			t.Fatalf("frame %d: faces %v, without DropPixels %v", i, faces[i], keptFaces[i])
		}
		for j := range faces[i] {
			a, b := faces[i][j], keptFaces[i][j]
			if a.Box != b.Box || a.Track != b.Track || a.Detected != b.Detected || a.Label != b.Label {
				t.Errorf("frame %d: face %+v, without DropPixels %+v", i, a, b)
			}
		}
	}
}
