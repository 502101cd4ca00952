package track

import (
	"image"
	"math"
	"sort"

	"github.com/vidtag/vidtag/gallery"
	"github.com/vidtag/vidtag/identity"
)

// Config tunes the tracker.
type Config struct {
	// MatchIoU is the least IoU between a track's box and a detection for
	// them to be the same face.
	MatchIoU float64
	// MaxMisses is how many keyframes in a row a track may go undetected,
	// carried by motion alone, before it is dropped.
	MaxMisses int
	// Rule is what a track's mean descriptor needs to take a known name
	// (package identity).
	Rule identity.Rule
	// Hysteresis lets a track keep its name while its mean descriptor stays
	// within Tolerance+Hysteresis and each ratio within its limit +
	// Hysteresis, so a name does not blink at the boundary.
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
	// MaxCrowd bounds the crowd: the means of ended tracks that were not
	// named, kept (the newest) as the video's strangers.
	MaxCrowd int
	// Cohort is strangers from elsewhere: the unnamed tracks of the other
	// videos of a batch (package batch). They are part of every track's
	// crowd, from the first frame.
	Cohort []gallery.Descriptor
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{MatchIoU: 0.3, MaxMisses: 2, Rule: identity.DefaultRule(0.6), Hysteresis: 0.04, MaxObservations: 64, MaxCrowd: 512, ConfirmHits: 2, ConfirmScore: 0.93}
}

// Detection is a face the detector found on a keyframe. A zero Descriptor
// means the detector gave none (a profile, say): the face is tracked but
// adds no identity evidence.
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
	label     identity.Decision
	// local is the decision without Config.Cohort: what the video's own
	// evidence says (the same as label without a cohort).
	local identity.Decision
	mean  gallery.Descriptor // of obs
	// sum and n add up every descriptor the track ever had (obs is a
	// sliding window): the track-level descriptor that clusters strangers.
	sum [128]float64
	n   int
}

// Identity is the mean of every descriptor the track has had (not only
// the sliding window the name is decided on) and how many there were: the
// track-level descriptor (zero with n 0 for a track never described).
func (t *Track) Identity() (gallery.Descriptor, int) {
	var m gallery.Descriptor
	if t.n == 0 {
		return m, 0
	}
	for i, v := range t.sum {
		m[i] = float32(v / float64(t.n))
	}
	return m, t.n
}

// Label is the track's current identity: Unknown with NaN distances until
// it has a descriptor.
func (t *Track) Label() identity.Decision {
	if len(t.obs) == 0 {
		return identity.None()
	}
	return t.label
}

// Observations is the number of descriptors in the track's mean.
func (t *Track) Observations() int { return len(t.obs) }

// Tracker owns the live tracks. It is not safe for concurrent use.
type Tracker struct {
	cfg    Config
	known  *identity.Known
	tracks []*Track
	nextID int
	// crowd holds the means of ended tracks that were not named, oldest
	// first, at most cfg.MaxCrowd.
	crowd   []gallery.Descriptor
	scratch []gallery.Descriptor
	ended   []Summary
}

// Summary is a track's identity evidence: the mean of its descriptors and
// the decision on it, when it ended (or now, for a live track).
type Summary struct {
	ID           int
	Mean         gallery.Descriptor
	Observations int
	Decision     identity.Decision
	// LocalKnown is whether the video's own evidence names it (Decision
	// without the cohort). A batch's cohort is made of tracks their own
	// video left unnamed, so that a name the cohort takes away does not
	// turn the person into a stranger for the other videos.
	LocalKnown bool
}

// Summaries lists every track with a descriptor so far, ended or live, by
// ID: what a batch needs to check the video's names against the strangers
// of its other videos.
func (tr *Tracker) Summaries() []Summary {
	out := append([]Summary(nil), tr.ended...)
	for _, t := range tr.tracks {
		if len(t.obs) > 0 {
			out = append(out, t.summary())
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (t *Track) summary() Summary {
	return Summary{ID: t.ID, Mean: t.mean, Observations: len(t.obs), Decision: t.label, LocalKnown: t.local.Known}
}

// New makes a tracker that names faces from g.
func New(cfg Config, g *gallery.Gallery) *Tracker {
	return &Tracker{cfg: cfg, known: identity.FromGallery(g)}
}

// end records an ending track's summary, and its mean in the crowd when
// the video's own evidence did not name it.
func (tr *Tracker) end(t *Track) {
	if len(t.obs) > 0 {
		tr.ended = append(tr.ended, t.summary())
	}
	if len(t.obs) == 0 || t.local.Known || tr.cfg.MaxCrowd <= 0 {
		return
	}
	if len(tr.crowd) == tr.cfg.MaxCrowd {
		copy(tr.crowd, tr.crowd[1:])
		tr.crowd = tr.crowd[:len(tr.crowd)-1]
	}
	tr.crowd = append(tr.crowd, t.mean)
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
		} else {
			tr.end(t)
		}
	}
	clear(tr.tracks[len(kept):])
	tr.tracks = kept
}

// Reset ends every track (at a scene cut).
func (tr *Tracker) Reset() {
	for _, t := range tr.tracks {
		tr.end(t)
	}
	clear(tr.tracks)
	tr.tracks = tr.tracks[:0]
}

// Observe merges a keyframe's detections: each is matched to the track it
// overlaps most (greedy by IoU, the usual choice for a handful of faces),
// snaps that track's box to it and adds its descriptor; the rest start new
// tracks. Tracks left unmatched count a miss and are dropped past MaxMisses.
// It returns the track of each detection, in order.
func (tr *Tracker) Observe(seq int, dets []Detection) []*Track {
	return tr.ObserveWhere(seq, dets, nil)
}

// ObserveWhere is Observe for a keyframe on which the detector looked only
// where sees says (nil: everywhere): a track elsewhere counts no miss.
func (tr *Tracker) ObserveWhere(seq int, dets []Detection, sees func(image.Rectangle) bool) []*Track {
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
		if !matched[ti] && (sees == nil || sees(t.Box)) {
			t.miss++
			if t.miss > tr.cfg.MaxMisses {
				tr.end(t)
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
			t = &Track{ID: tr.nextID, Born: seq, label: identity.None()}
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
	if d == (gallery.Descriptor{}) {
		return // no descriptor: nothing to add
	}
	for i, v := range d {
		t.sum[i] += float64(v)
	}
	t.n++
	if max := tr.cfg.MaxObservations; max > 0 && len(t.obs) == max {
		t.obs[t.next] = d
		t.next = (t.next + 1) % max
	} else {
		t.obs = append(t.obs, d)
	}
	t.mean = identity.Mean(t.obs)
	tr.decideBoth(t)
}

// Rename decides every live track's name again with the current crowd.
// Call it before reading labels that are final (a frame leaving the
// look-ahead): a stranger's track may have joined the crowd since.
func (tr *Tracker) Rename() {
	for _, t := range tr.tracks {
		if len(t.obs) > 0 {
			tr.decideBoth(t)
		}
	}
}

// decideBoth updates the track's decision, and the one its own video's
// evidence gives (without the cohort).
func (tr *Tracker) decideBoth(t *Track) {
	s := tr.strangers(t)
	t.label = tr.decide(t, s, t.label)
	if len(tr.cfg.Cohort) == 0 {
		t.local = t.label
	} else {
		t.local = tr.decide(t, s[len(tr.cfg.Cohort):], t.local)
	}
}

// strangers is the crowd for t: the cohort, then ended tracks and the other
// live tracks that the video's own evidence does not name (a name only the
// cohort took away does not make a stranger).
func (tr *Tracker) strangers(t *Track) []gallery.Descriptor {
	s := append(tr.scratch[:0], tr.cfg.Cohort...)
	s = append(s, tr.crowd...)
	for _, o := range tr.tracks {
		if o != t && len(o.obs) > 0 && !o.local.Known {
			s = append(s, o.mean)
		}
	}
	tr.scratch = s
	return s
}

// decide names a track from the mean of its descriptors (package identity)
// with these strangers, keeping the previous name while the evidence stays
// within the hysteresis band of the rule.
func (tr *Tracker) decide(t *Track, strangers []gallery.Descriptor, prev identity.Decision) identity.Decision {
	r := tr.cfg.Rule
	m := tr.known.Decide(t.mean, strangers, r)
	if prev.Known && !m.Known && m.Nearest == prev.Label {
		h := tr.cfg.Hysteresis
		within := func(v, limit float64) bool { return math.IsNaN(v) || limit <= 0 || v <= limit+h }
		far := r.FarRival > 0 && !math.IsNaN(m.Margin) && m.PersonDistance/m.Margin > r.FarRival
		if m.PersonDistance <= r.Tolerance+h && (far || within(m.Margin, r.Ratio)) && within(m.Crowd, r.CrowdRatio) {
			m.Label, m.Known = prev.Label, true
		}
	}
	return m
}

// Mean is the element-wise mean of descriptors.
func Mean(ds []gallery.Descriptor) gallery.Descriptor { return identity.Mean(ds) }

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
