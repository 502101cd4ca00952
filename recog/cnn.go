package recog

import (
	"context"
	"fmt"
	"image"
	"math"
	"sync"

	"gocv.io/x/gocv"

	"github.com/vidtag/vidtag/track"
	"github.com/vidtag/vidtag/ultraface"
)

// CNN is the UltraFace path: the CNN finds the faces (profiles too), and
// go-face describes each one it can confirm. For that, a crop three faces
// wide around the box, scaled so the face is about DescribeFace px wide, goes
// through go-face, whose HOG must find the face again. HOG finds frontal
// faces only, and that is the point: dlib's descriptor of a profile or a
// far-turned face lies near strangers' as often as near the person's own
// (README, "How it works"), so such faces are tracked and written,
// Unknown unless their track is named from frontal views. Each CNN owns one
// UltraFace network and is not for concurrent use; the CNNs of one Loader
// share one go-face Recognizer (the dlib models: 1 s of CPU and ~100 MB to
// load), which describes a face only on described keyframes.
type CNN struct {
	det     *ultraface.Detector
	hog     *sharedHOG
	minFace int
	plans   map[image.Point]ultraface.Plan
}

// sharedHOG is one go-face Recognizer used by several engines in turn,
// loaded with the first and closed with the last. It loads in the
// background: dlib's models take about 0.8 s of one core, and a keyframe
// needs them only when its faces are described, so the first engines
// detect (UltraFace loads in 10 ms) while the other core loads dlib. A call
// that needs the models waits for them.
type sharedHOG struct {
	dir  string
	mu   sync.Mutex // held for each call into go-face, and for refs
	refs int
	load *hogLoad // the current load; nil when no engine holds the models
}

// hogLoad is one background load of the dlib models.
type hogLoad struct {
	done chan struct{} // closed when hog or err is set
	hog  *HOG
	err  error
}

func (s *sharedHOG) acquire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.load == nil {
		l := &hogLoad{done: make(chan struct{})}
		go func() {
			defer close(l.done)
			l.hog, l.err = NewHOG(s.dir)
		}()
		s.load = l
	}
	s.refs++
}

func (s *sharedHOG) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refs--; s.refs == 0 {
		l := s.load
		s.load = nil
		<-l.done // a load under way finishes before its models are freed
		if l.hog != nil {
			l.hog.Close()
		}
	}
}

// loaded waits for the models; the caller holds a reference.
func (s *sharedHOG) loaded(ctx context.Context) (*HOG, error) {
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
	return l.hog, nil
}

func (s *sharedHOG) recognize(jpeg []byte, scale float64) ([]Detection, error) {
	hog, err := s.loaded(context.Background())
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return hog.Recognize(jpeg, scale)
}

func (s *sharedHOG) facesInPhoto(path string, maxPixels int) ([]Detection, error) {
	hog, err := s.loaded(context.Background())
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return hog.FacesInPhoto(path, maxPixels)
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

// NewCNN loads the UltraFace model file and the dlib models in dlibDir.
// minFace is the smallest face (px) looked for in a video frame.
func NewCNN(model, dlibDir string, minFace int) (*CNN, error) {
	return newCNN(model, &sharedHOG{dir: dlibDir}, minFace)
}

// newCNN loads the UltraFace model and shares hog.
func newCNN(model string, hog *sharedHOG, minFace int) (*CNN, error) {
	det, err := ultraface.New(model)
	if err != nil {
		return nil, fmt.Errorf("load the face detector: %w", err)
	}
	hog.acquire()
	return &CNN{det: det, hog: hog, minFace: minFace, plans: map[image.Point]ultraface.Plan{}}, nil
}

// Close frees the models.
func (c *CNN) Close() {
	c.det.Close()
	c.hog.release()
}

// Warm waits for the dlib models, which load in the background.
func (c *CNN) Warm(ctx context.Context) error {
	_, err := c.hog.loaded(ctx)
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
func (c *CNN) Coverage(w, h, tile int) func(image.Rectangle) bool {
	p := c.Plan(w, h)
	if p.Tiles() == 0 {
		return nil
	}
	return p.Turn(tile).Sees
}

// Detect finds the faces in the frame, and describes those it can when
// asked to.
func (c *CNN) Detect(in Input) ([]Detection, error) {
	found, err := c.det.Detect(in.Frame, c.Plan(in.Frame.Cols(), in.Frame.Rows()).Turn(in.Tile))
	if err != nil || len(found) == 0 {
		return nil, err
	}
	out := make([]Detection, len(found))
	for i, b := range found {
		out[i] = Detection{Box: DlibBox(b.Rect, in.Frame.Cols(), in.Frame.Rows()), Score: b.Score}
		if !in.Describe || out[i].Box.Dx()+1 < MinDescribedFace {
			continue
		}
		d, ok, err := c.describe(in.Frame, out[i].Box)
		if err != nil {
			return nil, err
		}
		out[i].Descriptor, out[i].Described = d, ok
	}
	return out, nil
}

// describe runs go-face on a crop around box; ok is false when its HOG does
// not find the face there.
func (c *CNN) describe(frame gocv.Mat, box image.Rectangle) (d Descriptor, ok bool, err error) {
	w := box.Dx() + 1
	region := image.Rect(box.Min.X-w, box.Min.Y-w, box.Max.X+w+1, box.Max.Y+w+1).Intersect(image.Rect(0, 0, frame.Cols(), frame.Rows()))
	crop := frame.Region(region)
	defer crop.Close()
	scale := float64(DescribeFace) / float64(w)
	scaled := gocv.NewMat()
	defer scaled.Close()
	buf, err := EncodeJPEG(crop, scale, 92, &scaled)
	if err != nil {
		return d, false, err
	}
	defer buf.Close()
	faces, err := c.hog.recognize(buf.GetBytes(), scale)
	if err != nil {
		return d, false, err
	}
	local, best := box.Sub(region.Min), 0.3
	for _, f := range faces {
		if v := track.IoU(f.Box, local); v >= best {
			d, ok, best = f.Descriptor, true, v
		}
	}
	return d, ok, nil
}

// FacesInPhoto finds every face in a known person's photo as the HOG path
// does: enrolment wants frontal faces, described the way video faces are.
func (c *CNN) FacesInPhoto(path string, maxPixels int) ([]Detection, error) {
	return c.hog.facesInPhoto(path, maxPixels)
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
