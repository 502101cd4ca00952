package track

import (
	"image"
	"math"
	"sort"

	"github.com/vidtag/vidtag/gallery"
)

// Config tunes the tracker.
type Config struct {
	// MatchIoU is the least IoU between a track's box and a detection for
	// them to be the same face.
	MatchIoU float64
	// MaxMisses is how many keyframes in a row a track may go undetected,
	// carried by motion alone, before it is dropped.
	MaxMisses int
	// Tolerance is the distance within which a face takes a known name.
	Tolerance float64
	// Hysteresis lets a track keep its name while its mean descriptor stays
	// within Tolerance+Hysteresis, so a name does not blink at the boundary.
	Hysteresis float64
	// MaxObservations bounds the descriptors kept per track (a sliding
	// window: older ones fall out of the mean).
	MaxObservations int
	// A track is confirmed, and shown, once one detection scores at
	// least ConfirmScore, or once it has ConfirmHits detections of which
	// one was described (a frontal face dlib's HOG found again). A CNN's
	// false faces (a sleeve, a pattern) score lower than real ones on the
	// shared clips (at most 0.91 against at least 0.947) and are never
	// frontal faces, so they are never drawn or named.
	ConfirmHits  int
	ConfirmScore float32
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{MatchIoU: 0.3, MaxMisses: 2, Tolerance: 0.6, Hysteresis: 0.04, MaxObservations: 64, ConfirmHits: 2, ConfirmScore: 0.93}
}

// Detection is a face the detector found on a keyframe.
type Detection struct {
	Box        image.Rectangle
	Descriptor gallery.Descriptor
	// Described says Descriptor may name the face; a face the detector
	// finds but dlib cannot describe well (a profile) is still tracked.
	Described bool
	Score     float32 // the detector's confidence; NaN if it gives none
}

// Track is one face followed over time.
type Track struct {
	ID    int
	Box   image.Rectangle
	Born  int     // sequence number of the first frame
	Last  int     // sequence number of the last detection
	Score float32 // the detector's confidence in the last detection
	// Confirmed: found often enough, or surely enough, to be a face.
	Confirmed bool
	hits      int
	miss      int // keyframes in a row without a detection
	obs       []gallery.Descriptor
	next      int // ring index into obs once full
	label     gallery.Match
	named     bool // label has been set at least once
}

// Label is the track's current identity.
func (t *Track) Label() gallery.Match { return t.label }

// Observations is the number of descriptors in the track's mean.
func (t *Track) Observations() int { return len(t.obs) }

// Tracker owns the live tracks. It is not safe for concurrent use.
type Tracker struct {
	cfg     Config
	gallery *gallery.Gallery
	tracks  []*Track
	nextID  int
}

// New makes a tracker that names faces from g.
func New(cfg Config, g *gallery.Gallery) *Tracker {
	if g == nil {
		g = gallery.New(nil, nil)
	}
	return &Tracker{cfg: cfg, gallery: g}
}

// Tracks returns the live tracks, oldest first. The slice is the tracker's
// own: do not keep it across calls.
func (tr *Tracker) Tracks() []*Track { return tr.tracks }

// Move applies a motion estimate to every track: move returns a track's new
// box, or false when motion is lost, which ends the track.
func (tr *Tracker) Move(move func(*Track) (image.Rectangle, bool)) {
	kept := tr.tracks[:0]
	for _, t := range tr.tracks {
		if box, ok := move(t); ok {
			t.Box = box
			kept = append(kept, t)
		}
	}
	clear(tr.tracks[len(kept):])
	tr.tracks = kept
}

// Reset ends every track (at a scene cut).
func (tr *Tracker) Reset() {
	clear(tr.tracks)
	tr.tracks = tr.tracks[:0]
}

// Observe merges a keyframe's detections: each is matched to the track it
// overlaps most (greedy by IoU, the usual choice for a handful of faces),
// snaps that track's box to it and adds its descriptor; the rest start new
// tracks. Tracks left unmatched count a miss and are dropped past MaxMisses.
// It returns the track of each detection, in order.
func (tr *Tracker) Observe(seq int, dets []Detection) []*Track {
	type pair struct {
		iou  float64
		t, d int
	}
	var pairs []pair
	for ti, t := range tr.tracks {
		for di, d := range dets {
			if v := IoU(t.Box, d.Box); v >= tr.cfg.MatchIoU {
				pairs = append(pairs, pair{v, ti, di})
			}
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].iou != pairs[j].iou {
			return pairs[i].iou > pairs[j].iou
		}
		if pairs[i].t != pairs[j].t {
			return pairs[i].t < pairs[j].t
		}
		return pairs[i].d < pairs[j].d
	})
	owner := make([]*Track, len(dets))
	matched := make([]bool, len(tr.tracks))
	for _, p := range pairs {
		if matched[p.t] || owner[p.d] != nil {
			continue
		}
		matched[p.t] = true
		owner[p.d] = tr.tracks[p.t]
	}
	kept := tr.tracks[:0]
	for ti, t := range tr.tracks {
		if !matched[ti] {
			t.miss++
			if t.miss > tr.cfg.MaxMisses {
				continue
			}
		}
		kept = append(kept, t)
	}
	clear(tr.tracks[len(kept):])
	tr.tracks = kept
	for di, d := range dets {
		t := owner[di]
		if t == nil {
			// Unknown until a descriptor says otherwise.
			t = &Track{ID: tr.nextID, Born: seq, label: gallery.Match{Label: gallery.Unknown, Distance: math.NaN()}}
			tr.nextID++
			tr.tracks = append(tr.tracks, t)
			owner[di] = t
		}
		t.Box = d.Box
		t.Last = seq
		t.Score = d.Score
		t.miss = 0
		t.hits++
		// A detector without a score (HOG) is trusted at once.
		t.Confirmed = t.Confirmed || !(d.Score < tr.cfg.ConfirmScore) || (d.Described && t.hits >= tr.cfg.ConfirmHits)
		if d.Described {
			tr.addObservation(t, d.Descriptor)
		}
	}
	return owner
}

func (tr *Tracker) addObservation(t *Track, d gallery.Descriptor) {
	if max := tr.cfg.MaxObservations; max > 0 && len(t.obs) == max {
		t.obs[t.next] = d
		t.next = (t.next + 1) % max
	} else {
		t.obs = append(t.obs, d)
	}
	t.label = tr.decide(t)
	t.named = true
}

// decide names a track from the mean of its descriptors, keeping a current
// name while it stays within the hysteresis band.
func (tr *Tracker) decide(t *Track) gallery.Match {
	mean := Mean(t.obs)
	m := tr.gallery.Match(mean, tr.cfg.Tolerance)
	if t.named && t.label.Known && m.Label != t.label.Label {
		// Keep the current name unless another person is now within
		// tolerance, or the current one has drifted past the band.
		if d := tr.gallery.DistanceTo(mean, t.label.Label); !m.Known && d <= tr.cfg.Tolerance+tr.cfg.Hysteresis {
			return gallery.Match{Label: t.label.Label, Known: true, Distance: d}
		}
	}
	return m
}

// Mean is the element-wise mean of descriptors.
func Mean(ds []gallery.Descriptor) gallery.Descriptor {
	var sum [128]float64
	for _, d := range ds {
		for i, v := range d {
			sum[i] += float64(v)
		}
	}
	var m gallery.Descriptor
	if len(ds) == 0 {
		return m
	}
	for i := range m {
		m[i] = float32(sum[i] / float64(len(ds)))
	}
	return m
}

// IoU is the intersection over union of two boxes.
func IoU(a, b image.Rectangle) float64 {
	in := a.Intersect(b)
	if in.Empty() {
		return 0
	}
	ia := float64(in.Dx()) * float64(in.Dy())
	ua := float64(a.Dx())*float64(a.Dy()) + float64(b.Dx())*float64(b.Dy()) - ia
	if ua <= 0 {
		return 0
	}
	return ia / ua
}
