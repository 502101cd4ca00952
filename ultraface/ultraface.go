// Package ultraface finds faces with UltraFace RFB-320 (Linzaer, MIT), a
// 1 MB CNN that, unlike dlib's HOG detector, also finds profiles, 3/4 views
// and faces looking down. It runs on OpenCV's DNN module.
//
// The ONNX graph decodes its own boxes against priors baked in for a
// 320x240 input, so the input size is fixed. To find faces smaller than a
// whole-frame pass can see, the frame is also cut into overlapping
// 320x240 tiles at a larger scale (see Plan).
package ultraface

import (
	"errors"
	"fmt"
	"image"
	"math"
	"os"

	"gocv.io/x/gocv"
)

// Input is the network's fixed input size.
var Input = image.Pt(320, 240)

// NetMinFace is about the smallest face (box width in input pixels) the
// network finds: its smallest prior is 10 px on a stride of 8.
const NetMinFace = 12

// Defaults from the model's authors' examples and our sweep (README).
const (
	DefaultScore = 0.6 // least confidence for a face
	DefaultNMS   = 0.3 // IoU above which the weaker of two boxes goes
)

// Box is one face found.
type Box struct {
	Rect  image.Rectangle // frame pixels, dlib style: right and bottom inclusive
	Score float32
}

// Detector owns one loaded network. It is not for concurrent use. It holds
// no image between calls (a call's scratch images, the canvas and the
// frame's halvings, are at most a third of the frame), so an idle detector
// owns no Mat.
type Detector struct {
	net    gocv.Net
	Score  float32
	NMS    float32
	rects  []image.Rectangle
	scores []float32
}

// New loads the model file. Check its sha256 first (package models): OpenCV
// aborts the process on a file that is not an ONNX network.
func New(path string) (*Detector, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	net := gocv.ReadNetFromONNX(path)
	if net.Empty() {
		return nil, fmt.Errorf("%s: OpenCV cannot read it as an ONNX network", path)
	}
	_ = net.SetPreferableBackend(gocv.NetBackendOpenCV)
	_ = net.SetPreferableTarget(gocv.NetTargetCPU)
	return &Detector{net: net, Score: DefaultScore, NMS: DefaultNMS}, nil
}

// Close frees the network.
func (d *Detector) Close() { d.net.Close() }

// Detect finds the faces in an 8-bit BGR frame, looking at each window of
// the plan, and merges what the windows found.
func (d *Detector) Detect(frame gocv.Mat, plan Plan) ([]Box, error) {
	if frame.Empty() {
		return nil, errors.New("ultraface: empty frame")
	}
	d.rects, d.scores = d.rects[:0], d.scores[:0]
	canvas := gocv.NewMatWithSize(Input.Y, Input.X, gocv.MatTypeCV8UC3) // what the network sees
	defer canvas.Close()
	part := gocv.NewMat() // a resized window of the frame
	defer part.Close()
	pyr := pyramid{frame}
	defer pyr.close()
	for i, w := range plan.Windows {
		maxFace := math.Inf(1)
		if i > 0 || !plan.Whole {
			maxFace = plan.TileMaxFace
		}
		if err := d.window(frame, &pyr, w, maxFace, &canvas, &part); err != nil {
			return nil, err
		}
	}
	if len(d.rects) == 0 {
		return nil, nil
	}
	keep := make([]int, len(d.rects))
	for i := range keep {
		keep[i] = -1
	}
	gocv.NMSBoxes(d.rects, d.scores, d.Score, d.NMS, keep)
	var out []Box
	for _, i := range keep {
		if i < 0 {
			break
		}
		out = append(out, Box{Rect: d.rects[i], Score: d.scores[i]})
	}
	return out, nil
}

// pyramid is a frame and its halvings, made as a window asks for them.
// Shrinking to the network's input by area averaging costs 4-5 ms for a
// 720p tile or a whole 1080p frame in one step (OpenCV's general area
// resize), against under 1 ms to halve (its 2x2 fast path) and 1-2 ms to
// finish from the half: so a window is shrunk from the smallest level that
// still has at least its pixels. Averaging 2x2 blocks, then the rest, is
// the same filter, give or take rounding.
type pyramid []gocv.Mat

// level returns the smallest level still at least 1/scale times the
// window's size, and its factor (1, 2, 4...) against the frame.
func (p *pyramid) level(scale float64) (gocv.Mat, int) {
	k := 0
	for scale*float64(int(1)<<(k+1)) <= 1 {
		k++
	}
	for len(*p) <= k {
		prev := (*p)[len(*p)-1]
		if prev.Cols() < 4 || prev.Rows() < 4 {
			break
		}
		// Even sides: an odd one would send OpenCV down its slow path.
		// The dropped last column or row is under a pixel at this level.
		even := prev.Region(image.Rect(0, 0, prev.Cols()&^1, prev.Rows()&^1))
		half := gocv.NewMat()
		gocv.Resize(even, &half, image.Pt(even.Cols()/2, even.Rows()/2), 0, 0, gocv.InterpolationArea)
		even.Close()
		*p = append(*p, half)
	}
	k = min(k, len(*p)-1)
	return (*p)[k], 1 << k
}

// shrink resizes the frame's rectangle in, seen at scale, to size in dst:
// by area averaging from the smallest level that still has its pixels, or
// bilinear when it is enlarged.
func (p *pyramid) shrink(in image.Rectangle, scale float64, size image.Point, dst *gocv.Mat) {
	level, f := p.level(scale)
	r := image.Rect(in.Min.X/f, in.Min.Y/f, (in.Max.X+f-1)/f, (in.Max.Y+f-1)/f).
		Intersect(image.Rect(0, 0, level.Cols(), level.Rows()))
	src := level.Region(r)
	defer src.Close()
	interp := gocv.InterpolationArea
	if scale > 1 {
		interp = gocv.InterpolationLinear
	}
	gocv.Resize(src, dst, size, 0, 0, interp)
}

// close frees the levels it made (not the frame). It takes a pointer: a
// deferred call on a value would see only the levels made before the defer.
func (p *pyramid) close() {
	for _, m := range (*p)[1:] {
		m.Close()
	}
	*p = (*p)[:1]
}

// window runs the network on one 4:3 window of the frame (which may reach
// past the frame's edges: that part is grey) and collects its boxes up to
// maxFace wide that do not touch a cut edge (one inside the frame).
func (d *Detector) window(frame gocv.Mat, pyr *pyramid, w image.Rectangle, maxFace float64, canvas, part *gocv.Mat) error {
	fw, fh := frame.Cols(), frame.Rows()
	s := float64(Input.X) / float64(w.Dx())
	in := w.Intersect(image.Rect(0, 0, fw, fh))
	if in.Empty() {
		return nil
	}
	canvas.SetTo(gocv.NewScalar(127, 127, 127, 0))
	// Where the visible part lands on the canvas.
	dst := image.Rect(
		int(math.Round(float64(in.Min.X-w.Min.X)*s)), int(math.Round(float64(in.Min.Y-w.Min.Y)*s)),
		int(math.Round(float64(in.Max.X-w.Min.X)*s)), int(math.Round(float64(in.Max.Y-w.Min.Y)*s)))
	dst = dst.Intersect(image.Rect(0, 0, Input.X, Input.Y))
	if dst.Dx() < 1 || dst.Dy() < 1 {
		return nil
	}
	pyr.shrink(in, s, dst.Size(), part)
	roi := canvas.Region(dst)
	part.CopyTo(&roi)
	roi.Close()

	blob := gocv.BlobFromImage(*canvas, 1.0/128, Input, gocv.NewScalar(127, 127, 127, 0), true, false)
	defer blob.Close()
	d.net.SetInput(blob, "input")
	outs := d.net.ForwardLayers([]string{"scores", "boxes"})
	defer func() {
		for _, o := range outs {
			o.Close()
		}
	}()
	scores, err := outs[0].DataPtrFloat32()
	if err != nil {
		return fmt.Errorf("ultraface: scores: %w", err)
	}
	boxes, err := outs[1].DataPtrFloat32()
	if err != nil {
		return fmt.Errorf("ultraface: boxes: %w", err)
	}
	n := len(scores) / 2
	if len(boxes) != 4*n {
		return fmt.Errorf("ultraface: %d scores but %d box numbers", n, len(boxes))
	}
	ww, wh := float64(w.Dx()), float64(w.Dy())
	for i := 0; i < n; i++ {
		p := scores[2*i+1] // face class
		if p < d.Score {
			continue
		}
		b := boxes[4*i : 4*i+4] // corners, as fractions of the input
		r := image.Rect(
			w.Min.X+int(math.Round(float64(b[0])*ww)), w.Min.Y+int(math.Round(float64(b[1])*wh)),
			w.Min.X+int(math.Round(float64(b[2])*ww))-1, w.Min.Y+int(math.Round(float64(b[3])*wh))-1,
		).Intersect(image.Rect(0, 0, fw-1, fh-1))
		if r.Dx() < 2 || r.Dy() < 2 || float64(r.Dx()+1) > maxFace || cutEdge(r, w, fw, fh) {
			continue
		}
		d.rects = append(d.rects, r)
		d.scores = append(d.scores, p)
	}
	return nil
}

// cutEdge reports whether r touches an edge of window w that lies inside
// the frame: a face cut there is only part of a face (and the part, seen
// large, is easily taken for a whole one).
func cutEdge(r, w image.Rectangle, fw, fh int) bool {
	const m = 2
	return (w.Min.X > 0 && r.Min.X <= w.Min.X+m) || (w.Min.Y > 0 && r.Min.Y <= w.Min.Y+m) ||
		(w.Max.X < fw && r.Max.X >= w.Max.X-1-m) || (w.Max.Y < fh && r.Max.Y >= w.Max.Y-1-m)
}

// Plan is where the detector looks in a frame of one size: the whole frame
// (padded to 4:3) and, when that pass alone cannot see faces as small as
// asked for, overlapping tiles at a larger scale. Tiles keep only faces up
// to TileMaxFace: bigger ones are the whole-frame pass's, and a tile, which
// sees large structures (a painted landscape, half a face at its edge) close
// up, finds false ones among them.
type Plan struct {
	Windows       []image.Rectangle // 4:3 windows in frame pixels; the whole frame first, if Whole
	Whole         bool              // the plan looks at the whole frame
	Smallest      float64           // smallest face found, px of the frame
	WholeSmallest float64           // smallest face the whole-frame pass finds, px
	TileMaxFace   float64           // largest face a tile may report, px
}

// Tiles is how many tiles the plan has (0: the whole frame suffices).
func (p Plan) Tiles() int {
	if p.Whole {
		return len(p.Windows) - 1
	}
	return len(p.Windows)
}

// tiles are the plan's tile windows.
func (p Plan) tiles() []image.Rectangle {
	if p.Whole {
		return p.Windows[1:]
	}
	return p.Windows
}

// Turn is the plan of one turn of a rotation, for the keyframes after a
// shot's first: one network pass each, the whole frame on odd turns and
// tile (turn/2-1) mod Tiles on even ones (a described keyframe also looks
// at the whole frame: Described). Turn 0 is the whole plan. So a face the
// whole-frame pass finds is looked for every other keyframe, a small face
// in its tile every 2*Tiles keyframes (the tracker backfills both from
// where they appeared), for 1 pass a keyframe instead of 1+Tiles.
func (p Plan) Turn(turn int) Plan {
	if turn <= 0 || p.Tiles() == 0 {
		return p
	}
	q := p
	if turn%2 == 1 {
		q.Windows = p.Windows[:1]
		return q
	}
	q.Whole = false
	q.Windows = []image.Rectangle{p.Windows[1+(turn/2-1)%p.Tiles()]}
	return q
}

// Described is the plan of a described keyframe at this turn of the
// rotation: the turn's window and the whole frame, so that every face the
// whole-frame pass finds is described, and the tiles take their turns as
// on any other keyframe (the tile of turn+1 on an odd turn). Turn 0 is the
// whole plan, which the first keyframe of a shot gets. Looking everywhere
// on every described keyframe instead (the way before) cost 5 passes of 10
// per 30 frames at 720p; this costs 2 of 7 (the index 8% faster), and a
// small face waits for its tile's turn to be described.
func (p Plan) Described(turn int) Plan {
	if turn <= 0 || p.Tiles() == 0 {
		return p
	}
	q := p
	q.Windows = []image.Rectangle{p.Windows[0], p.Windows[1+((turn+1)/2-1)%p.Tiles()]}
	return q
}

// Sees reports whether a face with this box (frame pixels) is one the plan
// finds: big enough for the whole-frame pass, or inside one of its tiles
// and small enough for it. Where the plan did not look, not finding a face
// is not evidence that it is gone.
func (p Plan) Sees(box image.Rectangle) bool {
	w := float64(box.Dx() + 1)
	if p.Whole && w >= p.WholeSmallest {
		return true
	}
	for _, t := range p.tiles() {
		if w <= p.TileMaxFace && box.In(t) {
			return true
		}
	}
	return false
}

// MaxTiles bounds the cost of a keyframe: each window is one network pass
// (about 11 ms on one core).
const MaxTiles = 4

// NewPlan plans detection on w x h frames for faces down to minFace pixels
// wide.
func NewPlan(w, h, minFace int) Plan {
	// The whole frame, padded to 4:3 (right or bottom).
	full := image.Rect(0, 0, w, h)
	if w*3 > h*4 {
		full.Max.Y = (w*3 + 3) / 4
	} else {
		full.Max.X = (h*4 + 2) / 3
	}
	p := Plan{Windows: []image.Rectangle{full}, Whole: true}
	s0 := float64(Input.X) / float64(full.Dx())
	p.Smallest = NetMinFace / s0
	p.WholeSmallest = p.Smallest
	if float64(minFace) >= p.Smallest*0.9 {
		return p
	}
	// Tiles: at scale s a tile covers tw x th frame pixels; neighbours
	// overlap by more than the largest face a tile reports, so every such
	// face lies whole in some tile. Lower the scale until the tiles fit
	// the budget.
	p.TileMaxFace = 2 * p.Smallest
	s := math.Min(1, NetMinFace/float64(max(1, minFace)))
	for ; s > s0; s *= 0.9 {
		tw, th := float64(Input.X)/s, float64(Input.Y)/s
		overlap := 1.1 * p.TileMaxFace
		nx := tilesAlong(float64(w), tw, overlap)
		ny := tilesAlong(float64(h), th, overlap)
		if nx*ny > MaxTiles {
			continue
		}
		for j := 0; j < ny; j++ {
			for i := 0; i < nx; i++ {
				x := spread(i, nx, float64(w), tw)
				y := spread(j, ny, float64(h), th)
				p.Windows = append(p.Windows, image.Rect(int(x), int(y), int(x+tw+0.5), int(y+th+0.5)))
			}
		}
		p.Smallest = NetMinFace / s
		break
	}
	return p
}

// tilesAlong is how many tiles of size t, overlapping by at least o, cover
// a length n.
func tilesAlong(n, t, o float64) int {
	if t >= n {
		return 1
	}
	return 1 + int(math.Ceil((n-t)/(t-o)))
}

// spread places tile i of k evenly from 0 to n-t.
func spread(i, k int, n, t float64) float64 {
	if k == 1 || t >= n {
		return 0
	}
	return math.Round(float64(i) * (n - t) / float64(k-1))
}
