package recog

import (
	"context"
	"fmt"
	"image"
	"math"
	"sync"

	"gocv.io/x/gocv"

	"github.com/vidtag/vidtag/embed"
	"github.com/vidtag/vidtag/track"
	"github.com/vidtag/vidtag/ultraface"
)

// CNN is the UltraFace path: the CNN finds the faces (profiles too), and
// dlib describes each one it can confirm. For that, a crop three faces wide
// around the box, scaled so the face is about DescribeFace px wide, goes
// through dlib's HOG frontal detector, which must find the face again, and
// the face it finds is described (5-point shape, ResNet), as go-face's
// Recognize would. HOG finds frontal faces only, and that is the point:
// dlib's descriptor of a profile or a far-turned face lies near strangers'
// as often as near the person's own (README, "How it works"), so such
// faces are tracked and written, Unknown unless their track is named from
// frontal views. Each CNN owns one UltraFace network and is not for
// concurrent use; the CNNs of one Loader share one set of dlib models (1 s
// of CPU and ~100 MB to load through go-face; 0.15 s through package embed,
// which keeps the decoded HOG detector in the cache), which describes a
// face only on described keyframes.
type CNN struct {
	det     *ultraface.Detector
	dlib    *sharedDlib
	minFace int
	plans   map[image.Point]ultraface.Plan
}

// sharedDlib is one package-embed Embedder, with its frontal detector,
// used by several engines in turn, loaded with the first and closed with
// the last. It loads in the background: a keyframe needs the models only
// when its faces are described, so the first engines detect (UltraFace
// loads in 10 ms) while the other core loads dlib. A call that needs the
// models waits for them.
type sharedDlib struct {
	dir   string
	cache string     // where the decoded frontal detector is kept ("" nowhere)
	mu    sync.Mutex // held for each call into the Embedder, and for refs
	refs  int
	load  *dlibLoad // the current load; nil when no engine holds the models
}

// dlibLoad is one background load of the dlib models.
type dlibLoad struct {
	done chan struct{} // closed when emb or err is set
	emb  *embed.Embedder
	err  error
}

func (s *sharedDlib) acquire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.load == nil {
		l := &dlibLoad{done: make(chan struct{})}
		go func() {
			defer close(l.done)
			l.emb, l.err = loadDlib(s.dir, s.cache)
		}()
		s.load = l
	}
	s.refs++
}

func loadDlib(dir, cache string) (*embed.Embedder, error) {
	emb, err := embed.New(dir)
	if err != nil {
		return nil, err
	}
	if err := emb.LoadFrontal(cache); err != nil {
		emb.Close()
		return nil, err
	}
	return emb, nil
}

func (s *sharedDlib) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refs--; s.refs == 0 {
		l := s.load
		s.load = nil
		<-l.done // a load under way finishes before its models are freed
		if l.emb != nil {
			l.emb.Close()
		}
	}
}

// loaded waits for the models; the caller holds a reference.
func (s *sharedDlib) loaded(ctx context.Context) (*embed.Embedder, error) {
	s.mu.Lock()
	l := s.load
	s.mu.Unlock()
	select {
	case <-l.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if l.err != nil {
		return nil, fmt.Errorf("load the dlib models: %w", l.err)
	}
	return l.emb, nil
}

// faces finds the frontal faces in img (continuous 8-bit BGR) and
// describes those pick keeps (all when pick is nil), in img's pixels.
func (s *sharedDlib) faces(img gocv.Mat, pick func([]image.Rectangle) []image.Rectangle) ([]Detection, error) {
	emb, err := s.loaded(context.Background())
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	boxes, err := emb.Frontal(img)
	if err != nil || len(boxes) == 0 {
		return nil, err
	}
	if pick != nil {
		if boxes = pick(boxes); len(boxes) == 0 {
			return nil, nil
		}
	}
	found, err := emb.Embed(img, boxes)
	if err != nil {
		return nil, err
	}
	out := make([]Detection, len(boxes))
	for i, b := range boxes {
		out[i] = Detection{Box: b, Descriptor: found[i].Descriptor, Described: true, Score: float32(math.NaN())}
	}
	return out, nil
}

const (
	// DescribeFace is the face width (px) at which a crop is described:
	// well above HOG's 80 px window, and about what dlib's 150 px chip
	// holds.
	DescribeFace = 120
	// MinDescribedFace is the least box width (px) worth describing:
	// smaller faces, blown up, give descriptors that name nobody reliably.
	MinDescribedFace = 24
)

// NewCNN loads the UltraFace model file and the dlib models in dlibDir,
// keeping the decoded HOG detector in cache ("" nowhere). minFace is the
// smallest face (px) looked for in a video frame.
func NewCNN(model, dlibDir, cache string, minFace int) (*CNN, error) {
	return newCNN(model, &sharedDlib{dir: dlibDir, cache: cache}, minFace)
}

// newCNN loads the UltraFace model and shares dlib.
func newCNN(model string, dlib *sharedDlib, minFace int) (*CNN, error) {
	det, err := ultraface.New(model)
	if err != nil {
		return nil, fmt.Errorf("load the face detector: %w", err)
	}
	dlib.acquire()
	return &CNN{det: det, dlib: dlib, minFace: minFace, plans: map[image.Point]ultraface.Plan{}}, nil
}

// Close frees the models.
func (c *CNN) Close() {
	c.det.Close()
	c.dlib.release()
}

// Warm waits for the dlib models, which load in the background.
func (c *CNN) Warm(ctx context.Context) error {
	_, err := c.dlib.loaded(ctx)
	return err
}

// NeedsJPEG is false: the CNN reads the frame itself.
func (c *CNN) NeedsJPEG() bool { return false }

// Plan is where the detector looks in w x h frames (cached per size).
func (c *CNN) Plan(w, h int) ultraface.Plan {
	key := image.Pt(w, h)
	p, ok := c.plans[key]
	if !ok {
		p = ultraface.NewPlan(w, h, c.minFace)
		c.plans[key] = p
	}
	return p
}

// Coverage is where a keyframe with this tile turn looked (the plan's Sees).
func (c *CNN) Coverage(w, h, tile int, described bool) func(image.Rectangle) bool {
	p := c.Plan(w, h)
	if p.Tiles() == 0 {
		return nil
	}
	return c.turn(p, tile, described).Sees
}

// turn is the plan of a keyframe at this tile turn.
func (c *CNN) turn(p ultraface.Plan, tile int, described bool) ultraface.Plan {
	if described {
		return p.Described(tile)
	}
	return p.Turn(tile)
}

// Detect finds the faces in the frame, and describes those it can when
// asked to.
func (c *CNN) Detect(in Input) ([]Detection, error) {
	found, err := c.det.Detect(in.Frame, c.turn(c.Plan(in.Frame.Cols(), in.Frame.Rows()), in.Tile, in.Describe))
	if err != nil || len(found) == 0 {
		return nil, err
	}
	out := make([]Detection, len(found))
	scaled := gocv.NewMat() // this keyframe's scaled crops: an idle engine owns no Mat
	defer scaled.Close()
	for i, b := range found {
		out[i] = Detection{Box: DlibBox(b.Rect, in.Frame.Cols(), in.Frame.Rows()), Score: b.Score}
		if !in.Describe || out[i].Box.Dx()+1 < MinDescribedFace {
			continue
		}
		d, ok, err := c.describe(in.Frame, out[i].Box, &scaled)
		if err != nil {
			return nil, err
		}
		out[i].Descriptor, out[i].Described = d, ok
	}
	return out, nil
}

// describe confirms and describes the face in box with dlib, on a crop
// around it scaled so that the face is about DescribeFace px wide; ok is
// false when the HOG detector does not find the face there.
func (c *CNN) describe(frame gocv.Mat, box image.Rectangle, scaled *gocv.Mat) (d Descriptor, ok bool, err error) {
	w := box.Dx() + 1
	region := image.Rect(box.Min.X-w, box.Min.Y-w, box.Max.X+w+1, box.Max.Y+w+1).Intersect(image.Rect(0, 0, frame.Cols(), frame.Rows()))
	crop := frame.Region(region)
	defer crop.Close()
	scale := float64(DescribeFace) / float64(w)
	resizeBy(crop, scale, scaled) // always a copy: dlib wants continuous pixels
	local := box.Sub(region.Min)
	faces, err := c.dlib.faces(*scaled, func(found []image.Rectangle) []image.Rectangle {
		// the frontal face that is this box: the best overlap, at least 0.3
		best, pick := 0.3, -1
		for i, f := range found {
			if v := track.IoU(unscale(f, scale), local); v >= best {
				best, pick = v, i
			}
		}
		if pick < 0 {
			return nil
		}
		return found[pick : pick+1]
	})
	if err != nil || len(faces) == 0 {
		return d, false, err
	}
	return faces[0].Descriptor, true, nil
}

// FacesInPhoto finds every face in a known person's photo as the HOG path
// does (enrolment wants frontal faces, described the way video faces are),
// with the shared dlib models.
func (c *CNN) FacesInPhoto(path string, maxPixels int) ([]Detection, error) {
	return facesInPhoto(path, maxPixels, func(img gocv.Mat, scale float64, scratch *gocv.Mat) ([]Detection, error) {
		src := img
		if scale != 1 {
			resizeBy(img, scale, scratch)
			src = *scratch
		}
		faces, err := c.dlib.faces(src, nil)
		for i := range faces {
			faces[i].Box = unscale(faces[i].Box, scale)
		}
		return faces, err
	})
}

// DlibBox turns an UltraFace box (tall: forehead to chin) into the square
// box dlib's detectors give for the same face, which is what dlib's shape
// predictor was trained on and what the sidecar has always held. Measured
// against the shared ground truth (465 faces): same centre across, 4% of
// the height lower, 1.12 times as wide.
func DlibBox(r image.Rectangle, w, h int) image.Rectangle {
	bw, bh := float64(r.Dx()+1), float64(r.Dy()+1)
	cx := float64(r.Min.X+r.Max.X) / 2
	cy := float64(r.Min.Y+r.Max.Y)/2 + 0.04*bh
	half := 1.12 * bw / 2
	return image.Rect(int(math.Round(cx-half)), int(math.Round(cy-half)), int(math.Round(cx+half))-1, int(math.Round(cy+half))-1).
		Intersect(image.Rect(0, 0, w-1, h-1))
}
