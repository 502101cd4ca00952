package annotate_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"github.com/vidtag/vidtag/annotate"
	"github.com/vidtag/vidtag/blur"
	"github.com/vidtag/vidtag/engine"
	"github.com/vidtag/vidtag/internal/testengine"
	"github.com/vidtag/vidtag/internal/testenv"
	"github.com/vidtag/vidtag/settings"
)

// gtFace is one ground-truth face (testdata MANIFEST.md, "GT format").
type gtFace struct {
	Box   [4]int `json:"box"` // inclusive corners
	Label string `json:"label"`
	Track string `json:"track"`
}

func loadGT(t *testing.T, clip string) [][]gtFace {
	t.Helper()
	f, err := os.Open(testenv.Data(t, "groundtruth", clip+".gt.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var frames [][]gtFace
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var line struct {
			Frame int      `json:"frame"`
			Faces []gtFace `json:"faces"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		if line.Frame != len(frames) {
			t.Fatalf("%s GT: frame %d on line %d", clip, line.Frame, len(frames)+1)
		}
		frames = append(frames, line.Faces)
	}
	return frames
}

// boxCover is what the output frame shows of one GT face.
type boxCover struct {
	frame int
	face  gtFace
	// covered is the share of the box's textured cells whose detail is
	// gone in the output; judged says the box had enough texture in the
	// source to tell (a face in deep shadow has none to hide or show).
	covered float64
	judged  bool
}

// Cell texture: the mean absolute Laplacian of a cell of the source frame
// must reach minDetail to be judged; it counts as blurred when the output
// keeps at most blurredShare of it. An unblurred face keeps most of its
// detail through x264 at CRF 20 (about 0.6-1.0 of it); a blurred one keeps
// next to none.
const (
	minDetail    = 3.0
	blurredShare = 0.35
	minJudged    = 4 // textured cells a box needs to be judged
)

// detail is the band-pass detail of a BGR frame, per pixel: the absolute
// difference of two Gaussian blurs of its grey (sigma 1 and 3 px), the
// scale of eyes, nostrils and lips on a small face. Pixel noise (x264's, the
// camera's) lies below it and a blurred face's smooth shading above it.
func detail(frame gocv.Mat, grey, a, b, out *gocv.Mat) {
	gocv.CvtColor(frame, grey, gocv.ColorBGRToGray)
	grey.ConvertTo(a, gocv.MatTypeCV32F)
	gocv.GaussianBlur(*a, b, image.Pt(0, 0), 3, 3, gocv.BorderReflect101)
	gocv.GaussianBlur(*a, a, image.Pt(0, 0), 1, 1, gocv.BorderReflect101)
	gocv.AbsDiff(*a, *b, out)
}

// measureBlur decodes the source and the output side by side and, for
// every GT face, measures how much of its box the output blurs: the box is
// cut into cells of about an eighth of its size (4 px at least), and each
// cell with detail in the source is blurred when the output has lost it.
func measureBlur(t *testing.T, src, out string, gt [][]gtFace) []boxCover {
	t.Helper()
	vs, err := gocv.VideoCaptureFile(src)
	if err != nil {
		t.Fatal(err)
	}
	defer vs.Close()
	vo, err := gocv.VideoCaptureFile(out)
	if err != nil {
		t.Fatal(err)
	}
	defer vo.Close()
	fs, fo := gocv.NewMat(), gocv.NewMat()
	grey, a, b, ds, do := gocv.NewMat(), gocv.NewMat(), gocv.NewMat(), gocv.NewMat(), gocv.NewMat()
	for _, m := range []*gocv.Mat{&fs, &fo, &grey, &a, &b, &ds, &do} {
		defer m.Close()
	}
	var res []boxCover
	for i, faces := range gt {
		if !vs.Read(&fs) || !vo.Read(&fo) {
			t.Fatalf("frame %d: source or output ended early (GT has %d frames)", i, len(gt))
		}
		if len(faces) == 0 {
			continue
		}
		detail(fs, &grey, &a, &b, &ds)
		detail(fo, &grey, &a, &b, &do)
		bounds := image.Rect(0, 0, fs.Cols(), fs.Rows())
		for _, face := range faces {
			b := image.Rect(face.Box[0], face.Box[1], face.Box[2]+1, face.Box[3]+1).Intersect(bounds)
			cell := max(4, min(b.Dx(), b.Dy())/8)
			judged, covered := 0, 0
			for y := b.Min.Y; y+cell <= b.Max.Y; y += cell {
				for x := b.Min.X; x+cell <= b.Max.X; x += cell {
					c := image.Rect(x, y, x+cell, y+cell)
					rs, ro := ds.Region(c), do.Region(c)
					s, o := rs.Mean().Val1, ro.Mean().Val1
					rs.Close()
					ro.Close()
					if s < minDetail {
						continue
					}
					judged++
					if o <= blurredShare*s {
						covered++
					}
				}
			}
			bc := boxCover{frame: i, face: face, judged: judged >= minJudged}
			if judged > 0 {
				bc.covered = float64(covered) / float64(judged)
			}
			res = append(res, bc)
		}
	}
	return res
}

// blurRun annotates clip with the blur policy and returns the output MP4
// and its sidecar.
func blurRun(t *testing.T, env *engine.Env, clip, policy string, style blur.Style) (string, string) {
	t.Helper()
	opt := settings.Defaults().Annotate()
	opt.Input = testenv.Data(t, "clips", clip+".mp4")
	opt.Output = filepath.Join(t.TempDir(), clip+".mp4")
	opt.Sidecar = annotate.DefaultSidecar(opt.Output)
	var err error
	if opt.Blur, err = blur.Parse(policy); err != nil {
		t.Fatal(err)
	}
	opt.BlurStyle = style
	plan, err := annotate.Prepare(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := annotate.Run(context.Background(), env, plan); err != nil {
		t.Fatal(err)
	}
	return opt.Output, opt.Sidecar
}

// flashes counts the GT faces shown unblurred (under half their box
// blurred) on a frame right after a frame where they were blurred (90% or
// more), following the GT's tracks.
func flashes(res []boxCover) []string {
	prev := map[string]boxCover{}
	var out []string
	for _, r := range res {
		key := r.face.Track
		if p, ok := prev[key]; ok && p.frame == r.frame-1 && p.judged && r.judged && p.covered >= 0.9 && r.covered < 0.5 {
			out = append(out, fmt.Sprintf("frame %d %s (%s): %.2f after %.2f", r.frame, r.face.Label, key, r.covered, p.covered))
		}
		prev[key] = r
	}
	return out
}

// TestBlurAllCoversEveryFace is issue 10's target for --blur all, measured
// on the output frames against the ground truth: at least 99% of GT face
// boxes have at least 90% of their area blurred, and no face blurred on
// one frame is shown on the next.
func TestBlurAllCoversEveryFace(t *testing.T) {
	if testing.Short() {
		t.Skip("annotates three clips")
	}
	pool := testengine.Pool(t, 2)
	env := &engine.Env{Engines: pool, Gallery: testengine.Known(t, pool)}
	for _, clip := range []string{"short_hamilton_clip", "obama_biden_720p", "obama_1080p"} {
		t.Run(clip, func(t *testing.T) {
			gt := loadGT(t, clip)
			out, _ := blurRun(t, env, clip, "all", blur.Gaussian)
			res := measureBlur(t, testenv.Data(t, "clips", clip+".mp4"), out, gt)
			judged, covered := 0, 0
			least := 1.0
			var missed []string
			for _, r := range res {
				if !r.judged {
					continue
				}
				judged++
				least = min(least, r.covered)
				if r.covered >= 0.9 {
					covered++
				} else {
					missed = append(missed, fmt.Sprintf("%d:%s:%.2f", r.frame, r.face.Label, r.covered))
				}
			}
			share := float64(covered) / float64(max(judged, 1))
			t.Logf("%s: %d of %d GT faces judged (textured), %d covered (%.4f), the least covered at %.2f; missed %s", clip, judged, len(res), covered, share, least, strings.Join(missed, " "))
			if judged < len(res)*9/10 {
				t.Errorf("only %d of %d GT faces have the texture to judge", judged, len(res))
			}
			if share < 0.99 {
				t.Errorf("%.4f of GT faces covered, want >= 0.99", share)
			}
			if f := flashes(res); len(f) > 0 {
				t.Errorf("%d faces flash unblurred after a blurred frame: %s", len(f), strings.Join(f, "; "))
			}
		})
	}
}

// TestBlurUnknownSparesKnown is issue 10's target for --blur unknown: on
// the Hamilton clip, Lin-Manuel Miranda (known) stays sharp and every
// stranger is covered. Barack Obama and Alex Lacamoire are known but their
// faces there are too far from their photos to be named (MANIFEST.md:
// Obama at 0.61-0.72, Lacamoire in profile), so they are blurred as
// strangers would be: this test only logs them.
func TestBlurUnknownSparesKnown(t *testing.T) {
	if testing.Short() {
		t.Skip("annotates a clip")
	}
	pool := testengine.Pool(t, 2)
	env := &engine.Env{Engines: pool, Gallery: testengine.Known(t, pool)}
	const clip = "short_hamilton_clip"
	gt := loadGT(t, clip)
	out, sidecar := blurRun(t, env, clip, "unknown", blur.Gaussian)
	res := measureBlur(t, testenv.Data(t, "clips", clip+".mp4"), out, gt)
	type tally struct{ n, covered, sharp int }
	by := map[string]*tally{}
	var bad []string
	for _, r := range res {
		if !r.judged {
			continue
		}
		c := by[r.face.Label]
		if c == nil {
			c = &tally{}
			by[r.face.Label] = c
		}
		c.n++
		switch {
		case r.covered >= 0.9:
			c.covered++
		case r.covered <= 0.1:
			c.sharp++
		}
		if (r.face.Label == "Lin-Manuel Miranda" && r.covered > 0.1) || (r.face.Label == "Unknown" && r.covered < 0.9) {
			bad = append(bad, fmt.Sprintf("%d:%s:%.2f", r.frame, r.face.Label, r.covered))
		}
	}
	for l, c := range by {
		t.Logf("%s: %d GT faces judged, %d covered, %d sharp", l, c.n, c.covered, c.sharp)
	}
	m, u := by["Lin-Manuel Miranda"], by["Unknown"]
	if m == nil || u == nil || m.n < 100 || u.n < 100 {
		t.Fatalf("too few GT faces judged: %+v %+v", m, u)
	}
	if m.sharp != m.n || u.covered != u.n {
		t.Errorf("Miranda sharp in %d of %d frames, strangers covered in %d of %d; wrong: %s", m.sharp, m.n, u.covered, u.n, strings.Join(bad, " "))
	}
	// The sidecar says the same: Miranda's faces are listed unblurred,
	// every other face blurred.
	b, err := os.ReadFile(sidecar)
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var v struct {
			Faces []struct {
				Label   string `json:"label"`
				Known   bool   `json:"known"`
				Blurred *bool  `json:"blurred"`
			} `json:"faces"`
		}
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatal(err)
		}
		for _, f := range v.Faces {
			if f.Blurred == nil || *f.Blurred == f.Known {
				t.Fatalf("sidecar frame %d: %s (known %v) has blurred %v", i, f.Label, f.Known, f.Blurred)
			}
		}
	}
}
