package people

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vidtag/vidtag/gallery"
	"github.com/vidtag/vidtag/internal/tidy"
	"github.com/vidtag/vidtag/stages"
)

// Bridge is the longest gap within one appearance: a person missing from
// fewer frames than this (a missed detection, a blink of a cut) stays on
// screen.
const Bridge = 500 * time.Millisecond

// Person is one person's time on screen in one video: the run report's
// "people" entry.
type Person struct {
	Frames  int     `json:"frames"`
	Seconds float64 `json:"seconds"` // frames / frame rate
	// Cluster is the stranger group of an "Unknown #N" entry; absent for
	// known people.
	Cluster int     `json:"cluster,omitempty"`
	First   float64 `json:"first"` // seconds: the first appearance's start
	Last    float64 `json:"last"`  // and the last one's end
	// Ranges are the appearances, [start, end) in seconds, gaps shorter
	// than Bridge joined.
	Ranges [][2]float64 `json:"ranges"`
}

// ClusterName is how a stranger group is shown: "Unknown #3".
func ClusterName(c int) string { return gallery.Unknown + " #" + strconv.Itoa(c) }

// nameOf is who a sidecar face is: the known label, "Unknown #N", or
// "Unknown" for a stranger never described (no cluster).
func nameOf(f stages.Face) string {
	if f.Known {
		return f.Label
	}
	if f.Cluster > 0 {
		return ClusterName(f.Cluster)
	}
	return gallery.Unknown
}

// timeline accumulates the appearances of each name over a video's frames.
type timeline struct {
	frame  float64 // seconds per frame
	people map[string]*Person
	last   map[string]float64 // end of the open range
}

func newTimeline(fps float64) *timeline {
	tl := &timeline{people: map[string]*Person{}, last: map[string]float64{}}
	if fps > 0 {
		tl.frame = 1 / fps
	}
	return tl
}

func (tl *timeline) add(f *stages.Frame) {
	t := f.PTS.Seconds()
	seen := map[string]bool{}
	for _, face := range f.Faces {
		n := nameOf(face)
		if seen[n] {
			continue
		}
		seen[n] = true
		p := tl.people[n]
		if p == nil {
			p = &Person{Cluster: face.Cluster}
			if face.Known {
				p.Cluster = 0
			}
			tl.people[n] = p
		}
		p.Frames++
		end := t + tl.frame
		if k := len(p.Ranges); k > 0 && t-tl.last[n] < Bridge.Seconds()-1e-9 {
			p.Ranges[k-1][1] = end
		} else {
			p.Ranges = append(p.Ranges, [2]float64{t, end})
		}
		tl.last[n] = end
	}
}

// finish rounds the figures; fps as annotate's report counts seconds.
func (tl *timeline) finish() map[string]Person {
	out := map[string]Person{}
	for n, p := range tl.people {
		q := *p
		if tl.frame > 0 {
			q.Seconds = tidy.Round(float64(p.Frames)*tl.frame, 2)
		}
		for i := range q.Ranges {
			q.Ranges[i] = [2]float64{tidy.Round(q.Ranges[i][0], 3), tidy.Round(q.Ranges[i][1], 3)}
		}
		q.First, q.Last = q.Ranges[0][0], q.Ranges[len(q.Ranges)-1][1]
		out[n] = q
	}
	return out
}

// People drops the "Unknown" entry (strangers never described): they are
// not a person, and show only in the subtitles.
func people(all map[string]Person) map[string]Person {
	out := map[string]Person{}
	for n, p := range all {
		if n != gallery.Unknown {
			out[n] = p
		}
	}
	return out
}

// orderNames sorts names for display: known people alphabetically, then
// clusters by number, then "Unknown".
func orderNames(names []string, all map[string]Person) {
	rank := func(n string) int {
		switch {
		case n == gallery.Unknown:
			return 2
		case all[n].Cluster > 0:
			return 1
		}
		return 0
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := names[i], names[j]
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra < rb
		}
		if ca, cb := all[a].Cluster, all[b].Cluster; ca != cb {
			return ca < cb
		}
		return a < b
	})
}

// VTT is the WebVTT of who is on screen: one cue per stretch of time in
// which the same people are, names joined by ", ". It has no cue when
// nobody is ever on screen.
func VTT(all map[string]Person) ([]byte, int) {
	type edge struct {
		t    float64
		name string
		on   bool
	}
	var edges []edge
	for n, p := range all {
		for _, r := range p.Ranges {
			edges = append(edges, edge{r[0], n, true}, edge{r[1], n, false})
		}
	}
	sort.Slice(edges, func(i, j int) bool {
		if edges[i].t != edges[j].t {
			return edges[i].t < edges[j].t
		}
		if edges[i].on != edges[j].on {
			return !edges[i].on
		}
		return edges[i].name < edges[j].name
	})
	var b strings.Builder
	b.WriteString("WEBVTT\n")
	cues := 0
	on := map[string]bool{}
	prevText, prevStart := "", 0.0
	emit := func(end float64) {
		if prevText != "" && end > prevStart {
			cues++
			fmt.Fprintf(&b, "\n%d\n%s --> %s\n%s\n", cues, vttTime(prevStart), vttTime(end), prevText)
		}
	}
	for i := 0; i < len(edges); {
		t := edges[i].t
		for ; i < len(edges) && edges[i].t == t; i++ {
			if edges[i].on {
				on[edges[i].name] = true
			} else {
				delete(on, edges[i].name)
			}
		}
		names := make([]string, 0, len(on))
		for n := range on {
			names = append(names, n)
		}
		orderNames(names, all)
		text := strings.Join(names, ", ")
		if text == prevText {
			continue
		}
		emit(t)
		prevText, prevStart = text, t
	}
	return []byte(b.String()), cues
}

func vttTime(s float64) string {
	ms := int64(math.Round(s * 1000))
	return fmt.Sprintf("%02d:%02d:%02d.%03d", ms/3600000, ms/60000%60, ms/1000%60, ms%1000)
}
