// Package evaltags scores per-frame face tags against ground truth with the
// rules of ../shared/tools/eval_tags.py, so Go tests can assert accuracy
// without Python. A test in this package checks the two agree.
package evaltags

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"
)

// Face is one tagged face.
type Face struct {
	Box   [4]float64
	Label string
	Track any // GT links faces across frames by track when it has one
}

// Frames maps a frame index to its faces.
type Frames map[int][]Face

// Load reads JSON lines of {"frame": N, "faces": [{"box": [...], "label": ...}]}.
func Load(path string) (Frames, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f)
}

// Read parses JSON lines.
func Read(r io.Reader) (Frames, error) {
	out := Frames{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var obj struct {
			Frame *int `json:"frame"`
			Faces []struct {
				Box   []float64 `json:"box"`
				Label *string   `json:"label"`
				Track any       `json:"track"`
			} `json:"faces"`
		}
		if err := json.Unmarshal([]byte(line), &obj); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if obj.Frame == nil || *obj.Frame < 0 {
			return nil, fmt.Errorf("line %d: bad frame", n)
		}
		if _, dup := out[*obj.Frame]; dup {
			return nil, fmt.Errorf("line %d: duplicate frame %d", n, *obj.Frame)
		}
		faces := make([]Face, 0, len(obj.Faces))
		for _, f := range obj.Faces {
			if len(f.Box) != 4 {
				return nil, fmt.Errorf("line %d: box must have 4 numbers", n)
			}
			var b [4]float64
			for i, v := range f.Box {
				b[i] = math.Max(v, 0)
			}
			label := "Unknown"
			if f.Label != nil {
				if s := strings.TrimSpace(*f.Label); s != "" && !strings.EqualFold(s, "unknown") {
					label = s
				}
			}
			faces = append(faces, Face{Box: b, Label: label, Track: f.Track})
		}
		out[*obj.Frame] = faces
	}
	return out, sc.Err()
}

// Result holds the scores.
type Result struct {
	Frames, GTFaces, PredFaces, Matched int
	GTKnown, CorrectKnown               int
	PredNamed, FalseNamed               int
	Flicker, Transitions                int
	DetectionRecall                     float64
	DetectionPrecision                  float64
	NamedFaceRecall                     float64
	FalseNameRate                       float64
	FlickerPer100                       float64
}

func (r Result) String() string {
	return fmt.Sprintf("recall %.4f precision %.4f named-face recall %.4f false-name rate %.4f flicker/100 %.3f",
		r.DetectionRecall, r.DetectionPrecision, r.NamedFaceRecall, r.FalseNameRate, r.FlickerPer100)
}

func iou(a, b [4]float64) float64 {
	iw := math.Min(a[2], b[2]) - math.Max(a[0], b[0])
	ih := math.Min(a[3], b[3]) - math.Max(a[1], b[1])
	if iw <= 0 || ih <= 0 {
		return 0
	}
	in := iw * ih
	ua := (a[2]-a[0])*(a[3]-a[1]) + (b[2]-b[0])*(b[3]-b[1]) - in
	if ua <= 0 {
		return 0
	}
	return in / ua
}

// greedy matches boxes highest IoU first; it returns index in A -> index in B.
func greedy(A, B []Face, thr float64) map[int]int {
	type pair struct {
		v    float64
		i, j int
	}
	var pairs []pair
	for i := range A {
		for j := range B {
			if v := iou(A[i].Box, B[j].Box); v >= thr && v > 0 {
				pairs = append(pairs, pair{v, i, j})
			}
		}
	}
	sort.Slice(pairs, func(x, y int) bool {
		if pairs[x].v != pairs[y].v {
			return pairs[x].v > pairs[y].v
		}
		if pairs[x].i != pairs[y].i {
			return pairs[x].i < pairs[y].i
		}
		return pairs[x].j < pairs[y].j
	})
	m := map[int]int{}
	usedB := map[int]bool{}
	for _, p := range pairs {
		if _, ok := m[p.i]; ok || usedB[p.j] {
			continue
		}
		m[p.i] = p.j
		usedB[p.j] = true
	}
	return m
}

// Evaluate scores pred against gt at the IoU threshold thr (eval_tags uses 0.4).
func Evaluate(gt, pred Frames, thr float64) Result {
	var r Result
	for fr := range gt {
		r.Frames = max(r.Frames, fr+1)
	}
	hasTracks := false
	for _, fs := range gt {
		for _, f := range fs {
			if f.Track != nil {
				hasTracks = true
			}
		}
	}
	var prevG []Face
	var prevLabels map[int]string
	for fr := 0; fr < r.Frames; fr++ {
		G, P := gt[fr], pred[fr]
		m := greedy(G, P, thr)
		r.GTFaces += len(G)
		r.PredFaces += len(P)
		r.Matched += len(m)
		inv := map[int]int{}
		for i, j := range m {
			inv[j] = i
		}
		for i, g := range G {
			if g.Label == "Unknown" {
				continue
			}
			r.GTKnown++
			if j, ok := m[i]; ok && P[j].Label == g.Label {
				r.CorrectKnown++
			}
		}
		for j, p := range P {
			if p.Label == "Unknown" {
				continue
			}
			r.PredNamed++
			if i, ok := inv[j]; !ok || G[i].Label != p.Label {
				r.FalseNamed++
			}
		}
		cur := map[int]string{}
		for i, j := range m {
			cur[i] = P[j].Label
		}
		if prevLabels != nil {
			links := map[int]int{}
			if hasTracks {
				idx := map[any]int{}
				for i, g := range prevG {
					if g.Track != nil {
						idx[g.Track] = i
					}
				}
				for i, g := range G {
					if a, ok := idx[g.Track]; ok && g.Track != nil {
						links[a] = i
					}
				}
			} else {
				for a, b := range greedy(prevG, G, 0.3) {
					if prevG[a].Label == G[b].Label {
						links[a] = b
					}
				}
			}
			for a, b := range links {
				pl, ok1 := prevLabels[a]
				cl, ok2 := cur[b]
				if ok1 && ok2 {
					r.Transitions++
					if pl != cl {
						r.Flicker++
					}
				}
			}
		}
		prevG, prevLabels = G, cur
	}
	for fr, P := range pred {
		if fr >= r.Frames {
			r.PredFaces += len(P)
			for _, p := range P {
				if p.Label != "Unknown" {
					r.PredNamed++
					r.FalseNamed++
				}
			}
		}
	}
	ratio := func(n, d int) float64 {
		if d == 0 {
			return math.NaN()
		}
		return float64(n) / float64(d)
	}
	r.DetectionRecall = ratio(r.Matched, r.GTFaces)
	r.DetectionPrecision = ratio(r.Matched, r.PredFaces)
	r.NamedFaceRecall = ratio(r.CorrectKnown, r.GTKnown)
	r.FalseNameRate = 0
	if r.PredNamed > 0 {
		r.FalseNameRate = ratio(r.FalseNamed, r.PredNamed)
	}
	if r.Frames > 0 {
		r.FlickerPer100 = 100 * float64(r.Flicker) / float64(r.Frames)
	}
	return r
}
