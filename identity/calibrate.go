package identity

import (
	"fmt"
	"math"
	"sort"

	"github.com/vidtag/vidtag/gallery"
	"github.com/vidtag/vidtag/internal/tidy"
)

// Bounds of the automatic tolerance. 0.6 is face_recognition's default and
// what vidtag used before: auto is never looser than that.
const (
	MaxTolerance = 0.6
	MinTolerance = 0.35
)

// Calibration is how the automatic tolerance was chosen from the known set.
type Calibration struct {
	Tolerance float64
	// Within is the 90% quantile of the distances from each photo to the
	// mean of the same person's other photos: how far a person's own faces
	// stray. NaN when nobody has two photos.
	Within float64
	// Between is the 5% quantile of the distances from each photo to the
	// other people's means: how close different people come in this
	// population. NaN with fewer than two people.
	Between      float64
	WithinPairs  int // how many distances Within summarises
	BetweenPairs int // and Between
}

// String says what was picked and why, for logs and reports.
func (c Calibration) String() string {
	f := func(v float64) string {
		if math.IsNaN(v) {
			return "n/a"
		}
		return fmt.Sprintf("%.3f", v)
	}
	return fmt.Sprintf("tolerance %.3f (a person's photos: 90%% within %s of their others (%d); other people: 5%% within %s (%d))",
		c.Tolerance, f(c.Within), c.WithinPairs, f(c.Between), c.BetweenPairs)
}

// Calibrate picks the tolerance for a known set, in the units the decision
// uses: distances to a person's mean descriptor.
//
//   - Within: how far each photo lies from the mean of the same person's
//     other photos (90% quantile), which a person's own faces need;
//   - Between: how far each photo lies from the other people's means (5%
//     quantile): a stranger resembles the known people about as much as
//     they resemble each other.
//
// With both known, the tolerance is Within plus a quarter of the gap up to
// Between (Within alone when they overlap: then the margin and the crowd,
// not the tolerance, keep strangers out); with one photo per person, 0.9 x
// Between, under what separates the known people; with one person, 0.6. It
// stays within [MinTolerance, MaxTolerance].
func Calibrate(k *Known) Calibration {
	var within, between []float64
	for i, ps := range k.photos {
		for a, p := range ps {
			if len(ps) > 1 {
				others := make([]Descriptor, 0, len(ps)-1)
				others = append(append(others, ps[:a]...), ps[a+1:]...)
				within = append(within, gallery.Distance(p, Mean(others)))
			}
			for j := range k.photos {
				if j != i {
					between = append(between, gallery.Distance(p, k.means[j]))
				}
			}
		}
	}
	c := Calibration{Within: quantile(within, 0.9), Between: quantile(between, 0.05), WithinPairs: len(within), BetweenPairs: len(between)}
	tol := MaxTolerance
	switch {
	case !math.IsNaN(c.Within) && !math.IsNaN(c.Between):
		tol = c.Within + math.Max(0, c.Between-c.Within)/4
	case !math.IsNaN(c.Between):
		tol = 0.9 * c.Between
	}
	c.Tolerance = math.Max(MinTolerance, math.Min(MaxTolerance, tidy.Round(tol, 3)))
	return c
}

// quantile is the q-quantile of vs by linear interpolation; NaN for none.
func quantile(vs []float64, q float64) float64 {
	if len(vs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), vs...)
	sort.Float64s(s)
	pos := q * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(s)-1)
	return s[lo] + (pos-float64(lo))*(s[hi]-s[lo])
}
