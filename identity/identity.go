package identity

import (
	"math"
	"sort"

	"github.com/vidtag/vidtag/gallery"
)

// Descriptor is a 128-d face embedding.
type Descriptor = gallery.Descriptor

// Defaults of the rule, chosen with make bench-identity (README, "Who is
// who").
const (
	// DefaultRatio is the largest margin (distance to the person / distance
	// to the next-nearest known person) that still names a face.
	DefaultRatio = 0.84
	// DefaultCrowdRatio is the largest crowd ratio (distance to the person
	// / distance to the nearest stranger face of the video) that still
	// names a face: the face must be nearer the person than any stranger.
	DefaultCrowdRatio = 1.0
	// DefaultFarRival: a next-nearest person farther than this is no
	// rival (beyond any tolerance auto picks: nobody would take the face
	// for them), so the margin does not apply.
	DefaultFarRival = 0.65
)

// Rule is what a name needs.
type Rule struct {
	// Tolerance is the largest distance from the face to the person's mean
	// descriptor (with one photo: the photo) that still names it.
	Tolerance float64
	// Ratio is the largest margin that still names a face. 0 or less is the
	// old rule: the nearest known face within Tolerance, no margin, no
	// crowd (kept for comparison in the bench).
	Ratio float64
	// CrowdRatio is the largest crowd ratio that still names a face; 0 or
	// less ignores the crowd.
	CrowdRatio float64
	// FarRival: the margin applies only when the next-nearest person is at
	// most this far; 0 or less: always.
	FarRival float64
}

// DefaultRule is the rule with tolerance tol.
func DefaultRule(tol float64) Rule {
	return Rule{Tolerance: tol, Ratio: DefaultRatio, CrowdRatio: DefaultCrowdRatio, FarRival: DefaultFarRival}
}

// Known is the enrolled set, grouped by person. It is read-only after New
// and safe for concurrent use.
type Known struct {
	people []string       // sorted
	photos [][]Descriptor // photos[i] are people[i]'s descriptors
	means  []Descriptor   // means[i] is the mean of photos[i]
}

// New groups labelled descriptors (labels[i] for descs[i]) by person.
func New(labels []string, descs []Descriptor) *Known {
	byLabel := map[string][]Descriptor{}
	for i, l := range labels {
		byLabel[l] = append(byLabel[l], descs[i])
	}
	k := &Known{}
	for l := range byLabel {
		k.people = append(k.people, l)
	}
	sort.Strings(k.people)
	for _, l := range k.people {
		k.photos = append(k.photos, byLabel[l])
		k.means = append(k.means, Mean(byLabel[l]))
	}
	return k
}

// FromGallery groups a gallery's descriptors by person.
func FromGallery(g *gallery.Gallery) *Known {
	if g == nil {
		return New(nil, nil)
	}
	labels := make([]string, g.Len())
	descs := make([]Descriptor, g.Len())
	for i := range labels {
		labels[i], descs[i] = g.Entry(i)
	}
	return New(labels, descs)
}

// People lists the known people, sorted.
func (k *Known) People() []string { return k.people }

// Photos returns person i's descriptors.
func (k *Known) Photos(i int) []Descriptor { return k.photos[i] }

// nearestFace is the distance from x to person i's nearest photo.
func (k *Known) nearestFace(x Descriptor, i int) float64 {
	best := math.Inf(1)
	for _, p := range k.photos[i] {
		best = math.Min(best, gallery.Distance(x, p))
	}
	return best
}

// Decision is the answer for one face (or track).
type Decision struct {
	Label string // the person, or gallery.Unknown
	Known bool
	// Nearest is the nearest known person, named or not ("" with nobody
	// known or no descriptor).
	Nearest string
	// Distance is the plain Euclidean distance to the nearest known face;
	// NaN with nobody known or no descriptor.
	Distance float64
	// PersonDistance is the distance to Nearest's mean descriptor, which
	// the tolerance and the ratios use.
	PersonDistance float64
	// Margin is PersonDistance over the distance to the next-nearest known
	// person's mean; NaN with one known person.
	Margin float64
	// Crowd is PersonDistance over the distance to the nearest stranger
	// face of the cohort; NaN with no cohort.
	Crowd float64
}

// None is the decision for a face without a descriptor (or with nobody
// known): Unknown, every distance NaN.
func None() Decision {
	nan := math.NaN()
	return Decision{Label: gallery.Unknown, Distance: nan, PersonDistance: nan, Margin: nan, Crowd: nan}
}

// Decide names the face x under rule r. strangers is the cohort: the
// descriptors (track means) of the other faces of the same video that are
// not named. x is named its nearest person P when
//
//	d(x, P) <= Tolerance, d(x, P) <= Ratio x d(x, Q) and d(x, P) <= CrowdRatio x d(x, S)
//
// with d to a person's mean descriptor, Q the next-nearest known person and
// S the nearest stranger: a face about as close to someone else, or to a
// stranger of the same video, as to P is not P. A Q farther than FarRival
// is no rival: nobody would take the face for Q.
func (k *Known) Decide(x Descriptor, strangers []Descriptor, r Rule) Decision {
	dec := None()
	if len(k.people) == 0 {
		return dec
	}
	if r.Ratio <= 0 { // the old rule
		best, d := -1, math.Inf(1)
		for i := range k.people {
			if di := k.nearestFace(x, i); di < d {
				best, d = i, di
			}
		}
		dec.Nearest, dec.Distance, dec.PersonDistance = k.people[best], d, d
		if d <= r.Tolerance {
			dec.Label, dec.Known = k.people[best], true
		}
		return dec
	}
	best, d1, d2 := -1, math.Inf(1), math.Inf(1)
	for i := range k.people {
		d := gallery.Distance(x, k.means[i])
		switch {
		case d < d1:
			best, d1, d2 = i, d, d1
		case d < d2:
			d2 = d
		}
	}
	dec.Nearest, dec.PersonDistance = k.people[best], d1
	dec.Distance = math.Inf(1)
	for i := range k.people {
		dec.Distance = math.Min(dec.Distance, k.nearestFace(x, i))
	}
	if !math.IsInf(d2, 1) {
		dec.Margin = ratio(d1, d2)
	}
	marginOK := math.IsNaN(dec.Margin) || dec.Margin <= r.Ratio || (r.FarRival > 0 && d2 > r.FarRival)
	if r.CrowdRatio > 0 && len(strangers) > 0 {
		ds := math.Inf(1)
		for _, s := range strangers {
			ds = math.Min(ds, gallery.Distance(x, s))
		}
		dec.Crowd = ratio(d1, ds)
	}
	if d1 <= r.Tolerance && marginOK && (math.IsNaN(dec.Crowd) || dec.Crowd <= r.CrowdRatio) {
		dec.Label, dec.Known = k.people[best], true
	}
	return dec
}

func ratio(d, rival float64) float64 {
	if rival == 0 {
		if d == 0 {
			return 1
		}
		return math.Inf(1)
	}
	return d / rival
}

// Mean is the element-wise mean of descriptors (the zero descriptor for
// none).
func Mean(ds []Descriptor) Descriptor {
	var sum [128]float64
	for _, d := range ds {
		for i, v := range d {
			sum[i] += float64(v)
		}
	}
	var m Descriptor
	if len(ds) == 0 {
		return m
	}
	for i := range m {
		m[i] = float32(sum[i] / float64(len(ds)))
	}
	return m
}
