package recog

import (
	"fmt"
	"image"
	"math"

	"gocv.io/x/gocv"

	"github.com/vidtag/vidtag/embed"
	"github.com/vidtag/vidtag/ultraface"
)

// CNN is the UltraFace path: the CNN finds the faces (profiles too) and
// dlib's shape predictor and ResNet describe each box. Each CNN owns one
// copy of the three models (about 35 MB) and is not for concurrent use.
type CNN struct {
	det     *ultraface.Detector
	emb     *embed.Embedder
	minFace int
	plans   map[image.Point]ultraface.Plan
	boxes   []image.Rectangle
	scratch gocv.Mat
}

// The descriptor gate. dlib's ResNet was trained on roughly frontal faces
// aligned by 5 landmarks; for a face turned far to the side, or only a few
// pixels wide, the descriptor it gives lies near strangers' as often as near
// the person's own (README, "How faces are named"). Such faces are tracked
// and written, but do not name a track.
const (
	// MinDescribedFace is the least box width (px) whose descriptor is used.
	MinDescribedFace = 32
	// MaxYaw bounds how far (0 frontal, 1 the nose at an eye) the nose may
	// sit off the middle between the eyes.
	MaxYaw = 0.45
)

// PhotoScore is the least detector confidence for a face in a known photo.
const PhotoScore = 0.9

// NewCNN loads the UltraFace model file and the dlib models in dlibDir.
// minFace is the smallest face (px) looked for in a video frame.
func NewCNN(model, dlibDir string, minFace int) (*CNN, error) {
	det, err := ultraface.New(model)
	if err != nil {
		return nil, fmt.Errorf("load the face detector: %w", err)
	}
	emb, err := embed.New(dlibDir)
	if err != nil {
		det.Close()
		return nil, err
	}
	return &CNN{det: det, emb: emb, minFace: minFace, plans: map[image.Point]ultraface.Plan{}, scratch: gocv.NewMat()}, nil
}

// Close frees the models.
func (c *CNN) Close() {
	c.det.Close()
	c.emb.Close()
	c.scratch.Close()
}

// NeedsJPEG is false: the CNN reads the frame itself.
func (c *CNN) NeedsJPEG() bool { return false }

// Plan is where the detector looks in w x h frames (cached per size).
func (c *CNN) Plan(w, h int) ultraface.Plan {
	return c.planFor(w, h, c.minFace)
}

func (c *CNN) planFor(w, h, minFace int) ultraface.Plan {
	key := image.Pt(w, h)
	if minFace != c.minFace {
		return ultraface.NewPlan(w, h, minFace)
	}
	p, ok := c.plans[key]
	if !ok {
		p = ultraface.NewPlan(w, h, minFace)
		c.plans[key] = p
	}
	return p
}

// Detect finds the faces in the frame and describes each.
func (c *CNN) Detect(in Input) ([]Detection, error) {
	return c.detect(in.Frame, c.Plan(in.Frame.Cols(), in.Frame.Rows()), in.Describe)
}

func (c *CNN) detect(img gocv.Mat, plan ultraface.Plan, describe bool) ([]Detection, error) {
	found, err := c.det.Detect(img, plan)
	if err != nil || len(found) == 0 {
		return nil, err
	}
	if !describe {
		out := make([]Detection, len(found))
		for i, b := range found {
			out[i] = Detection{Box: b.Rect, Score: b.Score}
		}
		return out, nil
	}
	c.boxes = c.boxes[:0]
	for i, b := range found {
		found[i].Rect = DlibBox(b.Rect, img.Cols(), img.Rows())
		c.boxes = append(c.boxes, found[i].Rect)
	}
	faces, err := c.emb.Embed(img, c.boxes)
	if err != nil {
		return nil, err
	}
	out := make([]Detection, len(found))
	for i, b := range found {
		out[i] = Detection{Box: b.Rect, Score: b.Score, Descriptor: faces[i].Descriptor,
			Described: b.Rect.Dx()+1 >= MinDescribedFace && math.Abs(Yaw(faces[i].Landmarks)) <= MaxYaw}
	}
	return out, nil
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

// Yaw estimates from dlib's 5 landmarks how far a face is turned: the
// nose's offset from the middle between the eyes, along the line through
// the eyes, in half eye-distances (0 frontal, +-1 the nose level with an
// eye, beyond for a profile).
func Yaw(marks [5]image.Point) float64 {
	e1 := mid(marks[0], marks[1])
	e2 := mid(marks[2], marks[3])
	dx, dy := e2[0]-e1[0], e2[1]-e1[1]
	d2 := dx*dx + dy*dy
	if d2 < 1 {
		return math.Inf(1) // eyes on top of each other: not a face seen from the front
	}
	nx, ny := float64(marks[4].X)-e1[0], float64(marks[4].Y)-e1[1]
	t := (nx*dx + ny*dy) / d2 // 0 at e1, 1 at e2
	return 2*t - 1
}

func mid(a, b image.Point) [2]float64 {
	return [2]float64{float64(a.X+b.X) / 2, float64(a.Y+b.Y) / 2}
}

// FacesInPhoto finds every face in an image file, shrunk to about
// maxPixels first, looking for faces down to 1/20 of the photo's shorter
// side.
func (c *CNN) FacesInPhoto(path string, maxPixels int) ([]Detection, error) {
	img, err := readPhoto(path)
	if err != nil {
		return nil, err
	}
	defer img.Close()
	src, scale := img, math.Sqrt(float64(maxPixels)/float64(img.Cols()*img.Rows()))
	if scale < 1 {
		gocv.Resize(img, &c.scratch, image.Point{}, scale, scale, gocv.InterpolationArea)
		src = c.scratch
	} else {
		scale = 1
	}
	minFace := max(20, min(src.Cols(), src.Rows())/20)
	// Known photos are posed: a stricter score keeps a false face (a hand,
	// a pattern) from making a good photo look like two people.
	c.det.Score = PhotoScore
	faces, err := c.detect(src, c.planFor(src.Cols(), src.Rows(), minFace), true)
	c.det.Score = ultraface.DefaultScore
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for i := range faces {
		faces[i].Box = unscale(faces[i].Box, scale)
	}
	return faces, nil
}
