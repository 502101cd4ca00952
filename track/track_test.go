package track

import (
	"image"
	"math"
	"math/rand"
	"testing"

	"github.com/vidtag/vidtag/gallery"
	"github.com/vidtag/vidtag/identity"
)

func box(x, y, w int) image.Rectangle { return image.Rect(x, y, x+w, y+w) }

// near returns a descriptor at distance dist from base along axis ax.
func near(base gallery.Descriptor, ax int, dist float32) gallery.Descriptor {
	base[ax] += dist
	return base
}

var (
	ann, bob gallery.Descriptor // two known people, far apart
	people   *gallery.Gallery
)

func init() {
	ann[0], bob[1] = 1, 1
	people = gallery.New([]string{"Ann", "Bob"}, []gallery.Descriptor{ann, bob})
}

func ids(ts []*Track) []int {
	out := make([]int, len(ts))
	for i, t := range ts {
		out[i] = t.ID
	}
	return out
}

func TestAssociationKeepsIdentities(t *testing.T) {
	tr := New(DefaultConfig(), people)
	first := tr.Observe(0, []Detection{{Box: box(0, 0, 100)}, {Box: box(300, 0, 100)}})
	if got := ids(first); got[0] != 0 || got[1] != 1 {
		t.Fatalf("new tracks %v, want 0 1", got)
	}
	// Detections come back in the other order and slightly moved.
	again := tr.Observe(5, []Detection{{Box: box(310, 5, 100)}, {Box: box(8, 3, 100)}})
	if got := ids(again); got[0] != 1 || got[1] != 0 {
		t.Errorf("tracks %v, want 1 0: identities swapped", got)
	}
	// A third face starts a third track; ids never repeat.
	third := tr.Observe(10, []Detection{{Box: box(310, 5, 100)}, {Box: box(8, 3, 100)}, {Box: box(600, 0, 80)}})
	if third[2].ID != 2 || third[2].Born != 10 {
		t.Errorf("new face got track %d born %d", third[2].ID, third[2].Born)
	}
}

func TestMissesAndMotionLoss(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxMisses = 2
	tr := New(cfg, people)
	tr.Observe(0, []Detection{{Box: box(0, 0, 100)}, {Box: box(300, 0, 100)}})
	for k := 1; k <= 2; k++ { // the second face goes undetected, within MaxMisses
		tr.Observe(k, []Detection{{Box: box(0, 0, 100)}})
		if len(tr.Tracks()) != 2 {
			t.Fatalf("after %d misses: %d tracks, want the coasting track kept", k, len(tr.Tracks()))
		}
	}
	tr.Observe(3, []Detection{{Box: box(0, 0, 100)}})
	if got := ids(tr.Tracks()); len(got) != 1 || got[0] != 0 {
		t.Fatalf("after 3 misses: tracks %v, want only 0", got)
	}
	tr.Move(func(tk *Track) (image.Rectangle, bool) { return tk.Box.Add(image.Pt(4, 0)), false })
	if len(tr.Tracks()) != 0 {
		t.Error("a track whose motion was lost survived")
	}
	tr.Observe(4, []Detection{{Box: box(0, 0, 100)}})
	tr.Move(func(tk *Track) (image.Rectangle, bool) { return tk.Box.Add(image.Pt(4, 0)), true })
	if b := tr.Tracks()[0].Box; b != box(4, 0, 100) {
		t.Errorf("moved box %v", b)
	}
	tr.Reset()
	if len(tr.Tracks()) != 0 {
		t.Error("Reset kept tracks")
	}
}

// observe feeds one face's descriptors to a fresh track and returns the
// label after each.
func observe(cfg Config, descs ...gallery.Descriptor) []identity.Decision {
	tr := New(cfg, people)
	var out []identity.Decision
	for i, d := range descs {
		ts := tr.Observe(i, []Detection{{Box: box(0, 0, 100), Descriptor: d, Described: true}})
		out = append(out, ts[0].Label())
	}
	return out
}

func TestIdentityVote(t *testing.T) {
	cfg := DefaultConfig()
	tests := []struct {
		name  string
		descs []gallery.Descriptor
		want  []string // label after each observation
	}{
		{"steady", []gallery.Descriptor{near(ann, 5, 0.3), near(ann, 6, 0.3)}, []string{"Ann", "Ann"}},
		{"one stray match does not flip the name",
			[]gallery.Descriptor{near(ann, 5, 0.3), near(ann, 6, 0.3), near(ann, 7, 0.3), near(bob, 8, 0.2), near(ann, 9, 0.3)},
			[]string{"Ann", "Ann", "Ann", "Ann", "Ann"}},
		{"unknown face stays unknown", []gallery.Descriptor{near(ann, 5, 0.9), near(ann, 6, 0.9)}, []string{gallery.Unknown, gallery.Unknown}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := observe(cfg, tt.descs...)
			for i := range got {
				if got[i].Label != tt.want[i] {
					t.Fatalf("after observation %d: %s (%.3f), want %s", i, got[i].Label, got[i].Distance, tt.want[i])
				}
			}
		})
	}
}

// TestWaveringFaceGetsOneName: per-frame distances that straddle the
// tolerance (0.55..0.68, as for Lin-Manuel Miranda's small face in the
// Hamilton clip) flip a per-frame matcher many times; the track's mean does
// not, because independent noise averages out.
func TestWaveringFaceGetsOneName(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	var descs []gallery.Descriptor
	perFrameFlips, prev := 0, ""
	for i := 0; i < 40; i++ {
		// noise spread over many axes: each frame's distance to Ann is ~0.6
		d := ann
		for k := 2; k < 128; k++ {
			d[k] += float32(r.NormFloat64() * 0.054)
		}
		descs = append(descs, d)
		m := people.Match(d, 0.6)
		if prev != "" && m.Label != prev {
			perFrameFlips++
		}
		prev = m.Label
	}
	got := observe(DefaultConfig(), descs...)
	flips := 0
	for i := 1; i < len(got); i++ {
		if got[i].Label != got[i-1].Label {
			flips++
		}
	}
	if perFrameFlips < 5 {
		t.Fatalf("test data too easy: per-frame matching flipped only %d times", perFrameFlips)
	}
	if flips > 1 || got[len(got)-1].Label != "Ann" {
		t.Errorf("track flipped %d times (per-frame: %d), ended as %s", flips, perFrameFlips, got[len(got)-1].Label)
	}
}

func TestHysteresis(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxObservations = 1 // the mean is the last descriptor: test the band alone
	got := observe(cfg, near(ann, 5, 0.5), near(ann, 5, 0.62), near(ann, 5, 0.7), near(ann, 5, 0.62), near(ann, 5, 0.55))
	want := []string{"Ann", "Ann", gallery.Unknown, gallery.Unknown, "Ann"}
	for i := range want {
		if got[i].Label != want[i] {
			t.Errorf("step %d: %s at %.2f, want %s", i, got[i].Label, got[i].Distance, want[i])
		}
	}
	if math.Abs(got[1].Distance-0.62) > 1e-3 {
		t.Errorf("kept name reports distance %.3f, want 0.62", got[1].Distance)
	}
}

func TestSlidingWindow(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxObservations = 3
	// Three of Bob push Ann's early observations out of the window.
	got := observe(cfg, near(ann, 5, 0.1), near(ann, 5, 0.1), near(bob, 5, 0.1), near(bob, 5, 0.1), near(bob, 5, 0.1))
	if got[4].Label != "Bob" {
		t.Errorf("after the window moved on: %s", got[4].Label)
	}
}

func TestIoU(t *testing.T) {
	tests := []struct {
		a, b image.Rectangle
		want float64
	}{
		{box(0, 0, 10), box(0, 0, 10), 1},
		{box(0, 0, 10), box(5, 0, 10), 50.0 / 150},
		{box(0, 0, 10), box(20, 0, 10), 0},
		{image.Rectangle{}, image.Rectangle{}, 0},
	}
	for _, tt := range tests {
		if got := IoU(tt.a, tt.b); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("IoU(%v, %v) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

// TestConfirmation: a track is shown once one detection is sure (score >=
// 0.93, or no score at all: HOG), or once it has two detections of which
// one was a frontal face dlib described. Weak detections alone, however
// many, never confirm it: the CNN's false faces are weak and never frontal.
func TestConfirmation(t *testing.T) {
	nan := float32(math.NaN())
	tests := []struct {
		name string
		dets []Detection // one per keyframe, same place
		want []bool      // Confirmed after each
	}{
		{"sure at once", []Detection{{Score: 0.99}}, []bool{true}},
		{"HOG, no score", []Detection{{Score: nan, Described: true, Descriptor: ann}}, []bool{true}},
		{"weak, never frontal", []Detection{{Score: 0.7}, {Score: 0.8}, {Score: 0.91}, {Score: 0.75}}, []bool{false, false, false, false}},
		{"weak, then frontal", []Detection{{Score: 0.7}, {Score: 0.8, Described: true, Descriptor: ann}}, []bool{false, true}},
		{"frontal once is not enough", []Detection{{Score: 0.8, Described: true, Descriptor: ann}}, []bool{false}},
		{"weak, then sure", []Detection{{Score: 0.7}, {Score: 0.95}, {Score: 0.6}}, []bool{false, true, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := New(DefaultConfig(), people)
			for i, d := range tt.dets {
				d.Box = box(10*i, 0, 100)
				got := tr.Observe(i*5, []Detection{d})[0].Confirmed
				if got != tt.want[i] {
					t.Fatalf("after detection %d: confirmed %v, want %v", i, got, tt.want[i])
				}
			}
		})
	}
}

// TestUndescribedFacesStayUnknown: a face the detector finds but dlib cannot
// describe (a profile all along) is tracked, and stays Unknown with no
// distance; a described detection later names the track.
func TestUndescribedFacesStayUnknown(t *testing.T) {
	tr := New(DefaultConfig(), people)
	var tk *Track
	for i := 0; i < 3; i++ {
		tk = tr.Observe(i*5, []Detection{{Box: box(0, 0, 100), Score: 0.99, Descriptor: ann}})[0]
	}
	if m := tk.Label(); m.Known || m.Label != gallery.Unknown || !math.IsNaN(m.Distance) || tk.Observations() != 0 {
		t.Fatalf("profile track: %+v with %d observations, want Unknown with no distance", m, tk.Observations())
	}
	tk = tr.Observe(15, []Detection{{Box: box(0, 0, 100), Score: 0.99, Descriptor: near(ann, 5, 0.3), Described: true}})[0]
	if m := tk.Label(); m.Label != "Ann" || tk.ID != 0 {
		t.Fatalf("after a frontal view: %+v (track %d), want Ann on track 0", m, tk.ID)
	}
}

// TestNoDescriptor: a detection without a descriptor (zero) is tracked but
// adds no evidence; a track without any is Unknown with no distance.
func TestNoDescriptor(t *testing.T) {
	tr := New(DefaultConfig(), people)
	ts := tr.Observe(0, []Detection{{Box: box(0, 0, 100)}})
	if m := ts[0].Label(); m.Known || !math.IsNaN(m.Distance) || ts[0].Observations() != 0 {
		t.Fatalf("no descriptor: %+v, %d observations", m, ts[0].Observations())
	}
	ts = tr.Observe(1, []Detection{{Box: box(2, 0, 100), Descriptor: near(ann, 5, 0.2), Described: true}})
	ts = tr.Observe(2, []Detection{{Box: box(4, 0, 100)}})
	if m := ts[0].Label(); m.Label != "Ann" || ts[0].Observations() != 1 {
		t.Errorf("after one descriptor and a profile: %+v, %d observations", m, ts[0].Observations())
	}
}

// TestCrowd: a face near Ann is named Ann, unless a stranger's track of the
// same video (ended, not named) lies nearer it than Ann does.
func TestCrowd(t *testing.T) {
	face := near(ann, 5, 0.45)
	stranger := near(face, 9, 0.2) // 0.2 from the face, 0.49 from Ann
	cfg := DefaultConfig()
	cfg.Rule.Tolerance = 0.48
	tr := New(cfg, people)
	if m := tr.Observe(0, []Detection{{Box: box(0, 0, 100), Descriptor: face, Described: true}})[0].Label(); m.Label != "Ann" {
		t.Fatalf("alone: %+v", m)
	}
	// A shot cut ends it; then the stranger's track: Unknown (0.49 > 0.48), and it ends.
	tr.Reset()
	if m := tr.Observe(1, []Detection{{Box: box(0, 0, 100), Descriptor: stranger, Described: true}})[0].Label(); m.Known {
		t.Fatalf("stranger named: %+v", m)
	}
	tr.Reset()
	m := tr.Observe(2, []Detection{{Box: box(0, 0, 100), Descriptor: face, Described: true}})[0].Label()
	if m.Known || math.Abs(m.Crowd-0.45/0.2) > 1e-3 {
		t.Errorf("face nearer a stranger of the video than Ann: %+v, want Unknown with crowd 2.25", m)
	}
	// A live unnamed track counts too, and Rename applies what came since.
	tr = New(cfg, people)
	tr.Observe(0, []Detection{{Box: box(0, 0, 100), Descriptor: face, Described: true}})
	tr.Observe(1, []Detection{{Box: box(0, 0, 100), Descriptor: face, Described: true}, {Box: box(300, 0, 100), Descriptor: stranger, Described: true}})
	tr.Rename()
	if m := tr.Tracks()[0].Label(); m.Known {
		t.Errorf("live stranger beside it: %+v, want Unknown", m)
	}
}

// TestNoMissWhereNotLooked: a keyframe whose detector looked only at part
// of the frame counts a miss only for tracks in that part.
func TestNoMissWhereNotLooked(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxMisses = 1
	tr := New(cfg, people)
	tr.Observe(0, []Detection{{Box: box(0, 0, 100)}, {Box: box(300, 0, 20)}})
	leftOnly := func(b image.Rectangle) bool { return b.Max.X < 200 }
	for k := 1; k <= 5; k++ { // the small face on the right is never looked at
		tr.ObserveWhere(k, []Detection{{Box: box(0, 0, 100)}}, leftOnly)
	}
	if len(tr.Tracks()) != 2 {
		t.Fatalf("%d tracks: a face where the detector did not look was dropped", len(tr.Tracks()))
	}
	for k := 6; k <= 7; k++ { // looked at everywhere: 2 misses > MaxMisses
		tr.ObserveWhere(k, []Detection{{Box: box(0, 0, 100)}}, nil)
	}
	if got := ids(tr.Tracks()); len(got) != 1 || got[0] != 0 {
		t.Fatalf("tracks %v after misses where the detector looked, want only 0", got)
	}
}

// TestCohort: strangers from elsewhere (a batch's other videos) take a name
// away from the first frame; the track's own video still names it
// (LocalKnown), and a track the cohort un-named does not join the video's
// crowd, so it un-names nobody else.
func TestCohort(t *testing.T) {
	face := near(ann, 5, 0.45)
	stranger := near(face, 9, 0.2)
	cfg := DefaultConfig()
	cfg.Rule.Tolerance = 0.48
	cfg.Cohort = []gallery.Descriptor{stranger}
	tr := New(cfg, people)
	tk := tr.Observe(0, []Detection{{Box: box(0, 0, 100), Descriptor: face, Described: true}})[0]
	if m := tk.Label(); m.Known {
		t.Fatalf("named despite a look-alike in the cohort: %+v", m)
	}
	tr.Reset() // ends it
	if len(tr.crowd) != 0 {
		t.Errorf("a track only the cohort un-named joined the video's crowd")
	}
	s := tr.Summaries()
	if len(s) != 1 || s[0].Decision.Known || !s[0].LocalKnown {
		t.Errorf("summaries %+v: want one track, unnamed, named by its own video", s)
	}
}
