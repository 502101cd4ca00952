package stages

import (
	"image"
	"math"
	"sort"

	"gocv.io/x/gocv"
)

// Flow moves face boxes from one frame to the next: pyramidal Lucas-Kanade
// optical flow on a grid of points in each box, checked forward and backward
// (median flow, Kalal et al. 2010). A box moves by the median point motion
// and scales by the median change of distances between points; when too few
// points come back to where they started, the face is lost (occluded, turned
// away, or a cut the schedule missed).
//
// Frames are turned grey and halved until they are at most flowHeight rows,
// so the cost does not grow with resolution (halving, unlike 0.75x, is a
// cheap 2x2 average). gocv's contrib trackers (KCF, CSRT) do not build
// against Debian's OpenCV, and core TrackerMIL costs ~25 ms per face per
// frame; this costs well under 1 ms per face.
type Flow struct {
	scale    float64 // frame pixels -> flow pixels
	small    gocv.Mat
	pts      [3]gocv.Mat // start, tracked, and back-tracked points
	status   [2]gocv.Mat
	errs     gocv.Mat
	criteria gocv.TermCriteria
}

const (
	flowHeight = 540 // rows the flow runs at, at most
	// flowGrid is the points per box side. With a 6x6 grid and an 11 px
	// window, following two 720p faces costs 1.4 ms a frame against 3.3
	// with 8x8 and 15 px (one core), with the same boxes on the shared
	// clips (mean IoU with the ground truth within 0.001); 5x5 followed a
	// face covered by another one.
	flowGrid   = 6
	flowWin    = 11 // LK window side, px
	flowLevels = 3  // pyramid levels above the image
	// flowReach is how far (flow px) a point can move between two frames
	// and still be followed: the window's half at the top level
	// (2^flowLevels), with room to spare (a test follows a 40 px move).
	flowReach = 64
)

// NewFlow prepares flow for w x h frames. Close it after the run.
func NewFlow(w, h int) *Flow {
	scale := 1.0
	for float64(h)*scale > flowHeight {
		scale /= 2
	}
	fl := &Flow{scale: scale, small: gocv.NewMat(), errs: gocv.NewMat(),
		criteria: gocv.NewTermCriteria(gocv.Count|gocv.EPS, 20, 0.03)}
	for i := range fl.pts {
		fl.pts[i] = gocv.NewMat()
	}
	for i := range fl.status {
		fl.status[i] = gocv.NewMat()
	}
	return fl
}

// Prepare makes the grey image flow runs on from a frame: from its grey
// (Frame.Grey) when it has one, else from its BGR pixels.
func (fl *Flow) Prepare(f *Frame, grey *gocv.Mat) {
	src := f.Grey
	if !f.HasGrey() {
		dst := grey
		if fl.scale < 1 {
			dst = &fl.small
		}
		gocv.CvtColor(f.Mat, dst, gocv.ColorBGRToGray)
		src = *dst
	}
	switch {
	case fl.scale < 1:
		gocv.Resize(src, grey, image.Point{}, fl.scale, fl.scale, gocv.InterpolationArea)
	case f.HasGrey():
		src.CopyTo(grey) // the tracker keeps it past the frame's grey
	}
}

// Move returns where each box (in frame pixels) went from the frame of
// grey image from to the frame of grey image to (prepared by Prepare), and
// whether it was followed. The frames are usually consecutive; backwards
// works too.
func (fl *Flow) Move(from, to gocv.Mat, boxes []image.Rectangle) ([]image.Rectangle, []bool) {
	out := make([]image.Rectangle, len(boxes))
	ok := make([]bool, len(boxes))
	if from.Empty() || to.Empty() || len(boxes) == 0 {
		return out, ok
	}
	const per = flowGrid * flowGrid
	n := len(boxes) * per
	if fl.pts[0].Rows() != n {
		fl.pts[0].Close()
		fl.pts[0] = gocv.NewMatWithSize(n, 1, gocv.MatTypeCV32FC2)
	}
	// LK builds image pyramids of both frames on every call, which costs
	// more than following the points: build them over the boxes and what
	// the flow can reach around them only (flowReach), not the whole frame.
	bounds := image.Rect(0, 0, to.Cols(), to.Rows())
	var roi image.Rectangle
	for _, box := range boxes {
		r := image.Rect(int(float64(box.Min.X)*fl.scale), int(float64(box.Min.Y)*fl.scale),
			int(math.Ceil(float64(box.Max.X+1)*fl.scale)), int(math.Ceil(float64(box.Max.Y+1)*fl.scale)))
		roi = roi.Union(r.Inset(-flowReach))
	}
	roi = roi.Intersect(bounds)
	if roi.Empty() {
		return out, ok
	}
	fromROI, toROI := from, to
	if roi != bounds {
		fromROI, toROI = from.Region(roi), to.Region(roi)
		defer fromROI.Close()
		defer toROI.Close()
	}
	p0, _ := fl.pts[0].DataPtrFloat32()
	for b, box := range boxes {
		// a grid over the inner 80% of the box, in flow pixels of the roi
		x0, y0 := float64(box.Min.X)*fl.scale-float64(roi.Min.X), float64(box.Min.Y)*fl.scale-float64(roi.Min.Y)
		w, h := float64(box.Dx())*fl.scale, float64(box.Dy())*fl.scale
		for i := 0; i < per; i++ {
			gx, gy := float64(i%flowGrid), float64(i/flowGrid)
			p0[2*(b*per+i)] = float32(x0 + w*(0.1+0.8*gx/(flowGrid-1)))
			p0[2*(b*per+i)+1] = float32(y0 + h*(0.1+0.8*gy/(flowGrid-1)))
		}
	}
	win := image.Pt(flowWin, flowWin)
	gocv.CalcOpticalFlowPyrLKWithParams(fromROI, toROI, fl.pts[0], fl.pts[1], &fl.status[0], &fl.errs, win, flowLevels, fl.criteria, 0, 1e-4)
	gocv.CalcOpticalFlowPyrLKWithParams(toROI, fromROI, fl.pts[1], fl.pts[2], &fl.status[1], &fl.errs, win, flowLevels, fl.criteria, 0, 1e-4)
	p1, _ := fl.pts[1].DataPtrFloat32()
	p2, _ := fl.pts[2].DataPtrFloat32()
	s0, _ := fl.status[0].DataPtrUint8()
	s1, _ := fl.status[1].DataPtrUint8()

	var fb, dx, dy, ratios []float64
	var good []int
	for b, box := range boxes {
		fb, good = fb[:0], good[:0]
		for i := b * per; i < (b+1)*per; i++ {
			if s0[i] == 0 || s1[i] == 0 {
				continue
			}
			e := math.Hypot(float64(p2[2*i]-p0[2*i]), float64(p2[2*i+1]-p0[2*i+1]))
			if math.IsNaN(e) {
				continue
			}
			fb = append(fb, e)
			good = append(good, i)
		}
		if len(good) < per/4 {
			continue
		}
		medFB := median(append([]float64(nil), fb...))
		// Points that came back far from where they started are unreliable;
		// when even the median did, the box is lost.
		size := float64(box.Dx()) * fl.scale
		if medFB > math.Max(1, 0.08*size) {
			continue
		}
		dx, dy = dx[:0], dy[:0]
		kept := good[:0]
		for k, i := range good {
			if fb[k] <= medFB {
				kept = append(kept, i)
				dx = append(dx, float64(p1[2*i]-p0[2*i]))
				dy = append(dy, float64(p1[2*i+1]-p0[2*i+1]))
			}
		}
		ratios = ratios[:0]
		for a := 0; a < len(kept); a++ {
			for c := a + 1; c < len(kept); c += 3 { // a third of the pairs is plenty
				i, j := kept[a], kept[c]
				d0 := math.Hypot(float64(p0[2*i]-p0[2*j]), float64(p0[2*i+1]-p0[2*j+1]))
				d1 := math.Hypot(float64(p1[2*i]-p1[2*j]), float64(p1[2*i+1]-p1[2*j+1]))
				if d0 > 1 {
					ratios = append(ratios, d1/d0)
				}
			}
		}
		s := 1.0
		if len(ratios) > 0 {
			s = median(ratios)
		}
		mx, my := median(dx), median(dy)
		cx := (float64(box.Min.X+box.Max.X)/2)*fl.scale + mx
		cy := (float64(box.Min.Y+box.Max.Y)/2)*fl.scale + my
		hw, hh := float64(box.Dx())*fl.scale*s/2, float64(box.Dy())*fl.scale*s/2
		moved := image.Rect(int(math.Round((cx-hw)/fl.scale)), int(math.Round((cy-hh)/fl.scale)),
			int(math.Round((cx+hw)/fl.scale)), int(math.Round((cy+hh)/fl.scale)))
		// A face mostly outside the frame has left it.
		inFlow := image.Rect(int((cx - hw)), int((cy - hh)), int((cx + hw)), int((cy + hh)))
		if in := inFlow.Intersect(bounds); in.Dx()*in.Dy()*2 < inFlow.Dx()*inFlow.Dy() {
			continue
		}
		out[b], ok[b] = moved, true
	}
	return out, ok
}

func median(v []float64) float64 {
	sort.Float64s(v)
	n := len(v)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// Close frees the scratch image and point buffers.
func (fl *Flow) Close() {
	fl.small.Close()
	fl.errs.Close()
	for i := range fl.pts {
		fl.pts[i].Close()
	}
	for i := range fl.status {
		fl.status[i].Close()
	}
}
