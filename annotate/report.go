package annotate

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/vidtag/vidtag/internal/outfile"
	"github.com/vidtag/vidtag/internal/tidy"
)

// Report is the run report written by --report, one JSON object.
type Report struct {
	Input          string  `json:"input"`
	Output         string  `json:"output,omitempty"`
	Sidecar        string  `json:"sidecar,omitempty"`
	Frames         int     `json:"frames"`
	FramesExpected int     `json:"frames_expected"`
	FramesFrom     string  `json:"frames_expected_from,omitempty"` // "container" (MP4/MOV sample table) or "packets" (a demux pass)
	Truncated      bool    `json:"truncated"`
	Faces          int     `json:"faces"`
	UnknownFaces   int     `json:"unknown_faces"`
	Tracks         int     `json:"tracks"`
	FPS            float64 `json:"fps"`
	WallSeconds    float64 `json:"wall_seconds"`
	VideoSeconds   float64 `json:"video_seconds"`
	RealTime       float64 `json:"realtime_factor"`
	DetectScale    float64 `json:"detect_scale"`
	// Tolerance is the identity tolerance used; ToleranceAuto says it was
	// calibrated from the known faces (--tolerance auto).
	Tolerance     float64           `json:"tolerance"`
	ToleranceAuto bool              `json:"tolerance_auto"`
	People        map[string]Person `json:"people"`
	// Source and Settings say what the outputs were made from, so a batch
	// re-run can tell complete outputs from stale ones without decoding.
	Source   Source `json:"source"`
	Settings string `json:"settings,omitempty"`
	// Cohort identifies the batch strangers the names were checked
	// against (annotate.CohortDigest); "" for none.
	Cohort string `json:"cohort,omitempty"`
}

// Source identifies an input file's version.
type Source struct {
	Size  int64  `json:"size"`
	MTime string `json:"mtime"` // RFC 3339 with nanoseconds
}

// SourceOf stats path.
func SourceOf(path string) (Source, error) {
	st, err := os.Stat(path)
	if err != nil {
		return Source{}, err
	}
	return Source{Size: st.Size(), MTime: st.ModTime().UTC().Format(time.RFC3339Nano)}, nil
}

// Seconds maps each known person to their seconds on screen.
func (r *Report) Seconds() map[string]float64 {
	out := make(map[string]float64, len(r.People))
	for l, p := range r.People {
		out[l] = p.Seconds
	}
	return out
}

// Person is how much of the video one known person is in.
type Person struct {
	Frames  int     `json:"frames"`
	Seconds float64 `json:"seconds"`
}

// NewReport summarises a result.
func NewReport(r *Result) *Report {
	rep := &Report{Input: r.Input, Output: r.Output, Sidecar: r.Sidecar, Frames: r.Frames, FramesExpected: r.FramesExpected,
		FramesFrom: r.FramesFrom, Truncated: r.Truncated, Faces: r.Faces, UnknownFaces: r.UnknownFaces, Tracks: r.Tracks,
		FPS: tidy.Round(r.FPS(), 2), WallSeconds: tidy.Round(r.Wall.Seconds(), 3), VideoSeconds: tidy.Round(r.Duration, 3),
		DetectScale: r.DetectScale, People: map[string]Person{}, Source: r.Source, Settings: r.Settings,
		Tolerance: r.Tolerance, ToleranceAuto: r.ToleranceAuto, Cohort: r.Cohort}
	if r.Wall > 0 {
		rep.RealTime = tidy.Round(r.Duration/r.Wall.Seconds(), 2)
	}
	for label, frames := range r.People {
		p := Person{Frames: frames}
		if r.FrameRate > 0 {
			p.Seconds = tidy.Round(float64(frames)/r.FrameRate, 2)
		}
		rep.People[label] = p
	}
	return rep
}

// WriteReport writes the report for r to path, atomically.
func WriteReport(path string, r *Result) error {
	return outfile.WriteJSON(path, NewReport(r), 0o644)
}

// Summary is the one-line human summary of a run.
func (r *Result) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d frames in %.1fs (%.0f fps, %.1fx real time); %d faces in %d tracks",
		filepath.Base(r.Input), r.Frames, r.Wall.Seconds(), r.FPS(), r.Duration/math.Max(r.Wall.Seconds(), 1e-9), r.Faces, r.Tracks)
	labels := make([]string, 0, len(r.People))
	for l := range r.People {
		labels = append(labels, l)
	}
	sort.Slice(labels, func(i, j int) bool {
		return r.People[labels[i]] > r.People[labels[j]] || r.People[labels[i]] == r.People[labels[j]] && labels[i] < labels[j]
	})
	for i, l := range labels {
		sep := ", "
		if i == 0 {
			sep = ": "
		}
		fmt.Fprintf(&b, "%s%s %d", sep, l, r.People[l])
	}
	if len(labels) == 0 {
		b.WriteString("; nobody known")
	}
	return b.String()
}
