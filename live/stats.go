package live

import (
	"math"
	"sort"
	"sync"
	"time"

	"github.com/vidtag/vidtag/internal/tidy"
	"github.com/vidtag/vidtag/stages"
)

// Report is what a live session did, written by --report.
type Report struct {
	Source         string             `json:"source"`
	Seconds        float64            `json:"seconds"`
	SourceFPS      float64            `json:"source_fps"`
	FramesCaptured int                `json:"frames_captured"`
	FramesShown    int                `json:"frames_shown"`
	Keyframes      int                `json:"keyframes"`        // frames offered to the detector (schedule: detect-every, cuts)
	FramesDropped  int                `json:"frames_dropped"`   // keyframes that never reached the detector (it only takes the newest)
	FramesLate     int                `json:"frames_not_shown"` // dropped because the pipeline had fallen behind
	Detections     int                `json:"detections"`       // frames the detector ran on
	DisplayFPS     float64            `json:"display_fps"`      // frames shown per second
	DetectFPS      float64            `json:"detect_fps"`       // detector runs per second
	LatencyMS      Latency            `json:"latency_ms"`       // capture to display
	People         map[string]float64 `json:"people"`           // label -> seconds on screen
}

// Latency percentiles, in milliseconds.
type Latency struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	Max float64 `json:"max"`
}

// stats counts frames and latencies; shown is called from the display
// thread, the rest from the session's goroutines.
type stats struct {
	mu                          sync.Mutex
	fps                         float64
	captures, shows, detections int
	hist                        []int // latency histogram, 0.1 ms buckets
	maxLat                      time.Duration
	first, last                 time.Time
	recentShows, recentDets     []time.Time
	lastLat                     time.Duration
	people                      map[string]float64
}

const histBucket = 100 * time.Microsecond

func (s *stats) init(fps float64) {
	s.fps, s.hist, s.people = fps, make([]int, 100_000), map[string]float64{} // up to 10 s
}

func (s *stats) captured() {
	s.mu.Lock()
	s.captures++
	if s.first.IsZero() {
		s.first = time.Now()
	}
	s.mu.Unlock()
}

func (s *stats) detected() {
	s.mu.Lock()
	s.detections++
	s.recentDets = recent(append(s.recentDets, time.Now()))
	s.mu.Unlock()
}

func (s *stats) shown(f *stages.Frame) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shows++
	s.last = now
	lat := now.Sub(f.Captured)
	s.lastLat = lat
	s.maxLat = max(s.maxLat, lat)
	s.hist[min(len(s.hist)-1, int(lat/histBucket))]++
	s.recentShows = recent(append(s.recentShows, now))
	seen := map[string]bool{}
	for _, face := range f.Faces {
		if face.Known && !seen[face.Label] {
			seen[face.Label] = true
			s.people[face.Label] += 1 / s.fps
		}
	}
}

// recent keeps the times of the last second.
func recent(ts []time.Time) []time.Time {
	cut := time.Now().Add(-time.Second)
	i := sort.Search(len(ts), func(i int) bool { return ts[i].After(cut) })
	return append(ts[:0], ts[i:]...)
}

// liveFigures are what the overlay shows.
type liveFigures struct {
	displayFPS, detectFPS float64
	latency               time.Duration
}

func (s *stats) live() liveFigures {
	s.mu.Lock()
	defer s.mu.Unlock()
	return liveFigures{float64(len(recent(s.recentShows))), float64(len(recent(s.recentDets))), s.lastLat}
}

func (s *stats) percentile(p float64) float64 {
	want := int(math.Ceil(p * float64(s.shows)))
	n := 0
	for i, c := range s.hist {
		n += c
		if n >= want && c > 0 {
			return float64(i+1) * float64(histBucket) / float64(time.Millisecond)
		}
	}
	return 0
}

// report sums up the session: dropped keyframes never reached the
// detector, late frames were replaced in the pipeline's mailbox by newer
// ones before the pipeline could take them.
func (s *stats) report(_ time.Duration, keyframes, dropped, late int) *Report {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := &Report{SourceFPS: tidy.Round(s.fps, 2), FramesCaptured: s.captures, FramesShown: s.shows, Keyframes: keyframes, FramesDropped: dropped,
		FramesLate: late, Detections: s.detections, People: map[string]float64{}}
	if !s.first.IsZero() && s.last.After(s.first) {
		secs := s.last.Sub(s.first).Seconds()
		r.Seconds = tidy.Round(secs, 3)
		// n frames span n-1 intervals
		r.DisplayFPS = tidy.Round(float64(max(0, s.shows-1))/secs, 2)
		r.DetectFPS = tidy.Round(float64(s.detections)/secs, 2)
	}
	if s.shows > 0 {
		r.LatencyMS = Latency{P50: tidy.Round(s.percentile(0.5), 1), P95: tidy.Round(s.percentile(0.95), 1),
			Max: tidy.Round(float64(s.maxLat)/float64(time.Millisecond), 1)}
	}
	for l, v := range s.people {
		r.People[l] = tidy.Round(v, 2)
	}
	return r
}
