package evaltags

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vidtag/vidtag/internal/testenv"
)

func TestScoresByHand(t *testing.T) {
	gt := `{"frame": 0, "faces": [{"box": [0, 0, 100, 100], "label": "Ann", "track": "a"}, {"box": [200, 0, 300, 100], "label": "Unknown", "track": "b"}]}
{"frame": 1, "faces": [{"box": [0, 0, 100, 100], "label": "Ann", "track": "a"}]}
{"frame": 2, "faces": [{"box": [0, 0, 100, 100], "label": "Ann", "track": "a"}]}
`
	pred := `{"frame": 0, "faces": [{"box": [5, 5, 105, 105], "label": "Ann"}, {"box": [200, 0, 300, 100], "label": "Bob"}]}
{"frame": 1, "faces": [{"box": [0, 0, 100, 100], "label": "unknown"}]}
{"frame": 2, "faces": [{"box": [0, 0, 100, 100], "label": "Ann"}, {"box": [500, 500, 600, 600], "label": "Cy"}]}
`
	g, err := Read(strings.NewReader(gt))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Read(strings.NewReader(pred))
	if err != nil {
		t.Fatal(err)
	}
	r := Evaluate(g, p, 0.4)
	want := Result{Frames: 3, GTFaces: 4, PredFaces: 5, Matched: 4, GTKnown: 3, CorrectKnown: 2, PredNamed: 4, FalseNamed: 2, Flicker: 2, Transitions: 2}
	got := r
	got.DetectionRecall, got.DetectionPrecision, got.NamedFaceRecall, got.FalseNameRate, got.FlickerPer100 = 0, 0, 0, 0, 0
	if got != want {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

// TestAgreesWithPython runs eval_tags.py on the same files and compares.
func TestAgreesWithPython(t *testing.T) {
	script := testenv.Tool(t, "eval_tags.py")
	_, errPy := exec.LookPath("python3")
	testenv.Require(t, errPy == nil, "python3 is needed to compare with eval_tags.py")
	gtPath := testenv.Data(t, "groundtruth", "short_hamilton_clip.gt.jsonl")
	// A prediction derived from the GT with shifts, relabels and drops.
	g, _ := Load(gtPath)
	dir := t.TempDir()
	predPath := filepath.Join(dir, "pred.jsonl")
	var b strings.Builder
	for fr := 0; fr < 275; fr++ {
		faces := []map[string]any{}
		for i, f := range g[fr] {
			if (fr+i)%7 == 0 {
				continue
			}
			label := f.Label
			if fr%11 == 0 {
				label = "Barack Obama"
			}
			box := []float64{f.Box[0] + float64(fr%13), f.Box[1], f.Box[2] + 9, f.Box[3] + float64(fr%5)}
			faces = append(faces, map[string]any{"box": box, "label": label})
		}
		line, _ := json.Marshal(map[string]any{"frame": fr, "faces": faces})
		b.Write(line)
		b.WriteByte('\n')
	}
	os.WriteFile(predPath, []byte(b.String()), 0o644)
	p, err := Load(predPath)
	if err != nil {
		t.Fatal(err)
	}
	got := Evaluate(g, p, 0.4)
	out, err := exec.Command("python3", script, gtPath, predPath, "--json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var py map[string]any
	json.Unmarshal(out, &py)
	for name, v := range map[string]float64{
		"detection_recall": got.DetectionRecall, "detection_precision": got.DetectionPrecision,
		"named_face_recall": got.NamedFaceRecall, "false_name_rate": got.FalseNameRate,
		"label_flicker_per_100_frames": got.FlickerPer100,
	} {
		if want := py[name].(float64); math.Abs(want-v) > 1e-9 {
			t.Errorf("%s: Go %.6f, Python %.6f", name, v, want)
		}
	}
}
