package identity

import (
	"fmt"
	"math"
	"sort"

	"github.com/vidtag/vidtag/gallery"
)

// OutlierDistance: a photo farther than this from the mean of the same
// person's other photos is not of the same person by face_recognition's
// rule (0.6).
const OutlierDistance = MaxTolerance

// LookAlikeDistance: two people whose mean faces are closer than this (or
// than the tolerance, if larger) are look-alikes for vidtag. A face of one
// then lies about as near the other, so the margin withholds their names.
const LookAlikeDistance = 0.5

// PersonCheck is what a check found about one person.
type PersonCheck struct {
	Name   string
	Photos int
	// Spread is the largest distance from a photo to the mean of the
	// person's other photos; NaN with one photo.
	Spread float64
}

// Outlier is a photo that disagrees with the same person's other photos.
type Outlier struct {
	Person string
	Photo  int     // index among the person's photos
	Apart  float64 // distance to the mean of the person's other photos
	// Like is another known person whose mean is nearer the photo than
	// the person's own other photos ("" if none): the photo is probably
	// of Like, misfiled.
	Like     string
	LikeDist float64
}

// Pair is two people vidtag will confuse.
type Pair struct {
	A, B     string
	Distance float64 // between their mean faces
}

// CheckReport is the verdict on a known set.
type CheckReport struct {
	Calibration Calibration
	People      []PersonCheck
	Outliers    []Outlier
	LookAlikes  []Pair // closest first
	Advice      []string
}

// Unreliable reports problems that make names unreliable: photos that
// disagree with their person, or look-alikes.
func (r *CheckReport) Unreliable() bool { return len(r.Outliers) > 0 || len(r.LookAlikes) > 0 }

// Check examines a known set: whether each person's photos agree, which
// people are look-alikes, what tolerance auto picks, and what would make
// the names reliable.
// name, if not nil, names person's i-th photo in the advice (a path, say).
func Check(k *Known, name func(person string, i int) string) *CheckReport {
	if name == nil {
		name = func(person string, i int) string { return fmt.Sprintf("photo %d of %s", i+1, person) }
	}
	r := &CheckReport{Calibration: Calibrate(k)}
	for i, name := range k.people {
		ps := k.photos[i]
		pc := PersonCheck{Name: name, Photos: len(ps), Spread: math.NaN()}
		for a, p := range ps {
			if len(ps) < 2 {
				break
			}
			others := make([]Descriptor, 0, len(ps)-1)
			others = append(append(others, ps[:a]...), ps[a+1:]...)
			apart := gallery.Distance(p, Mean(others))
			if math.IsNaN(pc.Spread) || apart > pc.Spread {
				pc.Spread = apart
			}
			o := Outlier{Person: name, Photo: a, Apart: apart, LikeDist: math.Inf(1)}
			for j, m := range k.means {
				if d := gallery.Distance(p, m); j != i && d < apart && d < o.LikeDist {
					o.Like, o.LikeDist = k.people[j], d
				}
			}
			if apart > OutlierDistance || o.Like != "" {
				r.Outliers = append(r.Outliers, o)
			}
		}
		r.People = append(r.People, pc)
	}
	limit := math.Max(LookAlikeDistance, r.Calibration.Tolerance)
	for i := range k.people {
		for j := i + 1; j < len(k.people); j++ {
			if d := gallery.Distance(k.means[i], k.means[j]); d < limit {
				r.LookAlikes = append(r.LookAlikes, Pair{k.people[i], k.people[j], d})
			}
		}
	}
	sort.SliceStable(r.LookAlikes, func(a, b int) bool { return r.LookAlikes[a].Distance < r.LookAlikes[b].Distance })
	r.Advice = advice(r, name)
	return r
}

func advice(r *CheckReport, name func(string, int) string) []string {
	var out []string
	for _, o := range r.Outliers {
		if o.Like != "" {
			out = append(out, fmt.Sprintf("move or remove %s: it looks like %s (%.2f) more than %s's other photos (%.2f)",
				name(o.Person, o.Photo), o.Like, o.LikeDist, o.Person, o.Apart))
		} else {
			out = append(out, fmt.Sprintf("check %s: it is %.2f from %s's other photos, probably someone else",
				name(o.Person, o.Photo), o.Apart, o.Person))
		}
	}
	for _, p := range r.LookAlikes {
		out = append(out, fmt.Sprintf("%s and %s look alike to vidtag (%.2f apart): add more photos of both (other days, angles, light); until then their faces will often stay Unknown",
			p.A, p.B, p.Distance))
	}
	var few []string
	for _, p := range r.People {
		if p.Photos < 3 {
			few = append(few, p.Name)
		}
	}
	if len(few) > 0 {
		out = append(out, fmt.Sprintf("add photos of %s (3 or more each, in a sub-folder per person): with fewer, vidtag cannot tell how far their faces stray, and strangers are harder to tell apart", list(few)))
	}
	return out
}

func list(names []string) string {
	switch len(names) {
	case 1:
		return names[0]
	case 2:
		return names[0] + " and " + names[1]
	}
	s := ""
	for i, n := range names {
		switch {
		case i == len(names)-1:
			s += ", and " + n
		case i > 0:
			s += ", " + n
		default:
			s = n
		}
	}
	return s
}
