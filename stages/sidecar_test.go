package stages

import (
	"encoding/json"
	"image"
	"math"
	"strings"
	"testing"
	"time"
)

func TestSidecarLine(t *testing.T) {
	tests := []struct {
		name string
		f    *Frame
		want string
	}{
		{"no faces", &Frame{Seq: 0}, `{"frame": 0, "time": 0.000, "faces": []}`},
		{"known face", &Frame{Seq: 12, PTS: 400400 * time.Microsecond, Faces: []Face{
			{Box: image.Rect(522, 54, 561, 93), Label: "Lin-Manuel Miranda", Known: true, Distance: 0.41249, Margin: 0.5, Crowd: math.NaN(), Track: 3, Score: 0.99849}}},
			`{"frame": 12, "time": 0.400, "faces": [{"box": [522, 54, 561, 93], "label": "Lin-Manuel Miranda", "known": true, "cluster": null, "distance": 0.412, "margin": 0.500, "crowd": null, "track": 3, "score": 0.998}]}`},
		{"unknown, no known faces at all, odd label", &Frame{Seq: 7, PTS: time.Second, Faces: []Face{
			{Box: image.Rect(-3, 0, 40, 44), Label: `Unknown`, Cluster: 3, Distance: math.NaN(), Margin: math.NaN(), Crowd: math.Inf(1), Track: 0, Score: 0.6},
			{Box: image.Rect(1, 2, 3, 4), Label: `Ann "the" \\ <Q>`, Known: true, Distance: 0.5, Margin: 0.8, Crowd: 0.9996, Track: 1, Score: float32(math.NaN())}}},
			`{"frame": 7, "time": 1.000, "faces": [{"box": [-3, 0, 40, 44], "label": "Unknown", "known": false, "cluster": 3, "distance": null, "margin": null, "crowd": null, "track": 0, "score": 0.600}, {"box": [1, 2, 3, 4], "label": "Ann \"the\" \\\\ \u003cQ\u003e", "known": true, "cluster": null, "distance": 0.500, "margin": 0.800, "crowd": 1.000, "track": 1, "score": null}]}`},
		{"blur on: which faces were blurred, and what else", &Frame{Seq: 3, Blur: true, Faces: []Face{
			{Box: image.Rect(10, 10, 50, 50), Label: "Unknown", Distance: math.NaN(), Margin: math.NaN(), Crowd: math.NaN(), Track: 2, Score: 0.95, Blurred: true},
			{Box: image.Rect(100, 10, 150, 60), Label: "Ann", Known: true, Distance: 0.3, Margin: math.NaN(), Crowd: math.NaN(), Track: 4, Score: 0.99}},
			Unlisted: []Face{{Box: image.Rect(200, 20, 230, 50), Track: 5, Blurred: true}, {Box: image.Rect(300, 20, 330, 50), Track: 6, Known: true, Label: "Ann"}}},
			`{"frame": 3, "time": 0.000, "faces": [{"box": [10, 10, 50, 50], "label": "Unknown", "known": false, "cluster": null, "distance": null, "margin": null, "crowd": null, "track": 2, "score": 0.950, "blurred": true}, {"box": [100, 10, 150, 60], "label": "Ann", "known": true, "cluster": null, "distance": 0.300, "margin": null, "crowd": null, "track": 4, "score": 0.990, "blurred": false}], "also_blurred": [{"box": [200, 20, 230, 50], "track": 5}]}`},
		{"blur on, nothing unlisted blurred", &Frame{Seq: 4, Blur: true, Unlisted: []Face{{Box: image.Rect(1, 1, 9, 9), Known: true, Label: "Ann"}}},
			`{"frame": 4, "time": 0.000, "faces": []}`},
		{"blur off: unlisted faces stay out", &Frame{Seq: 5, Unlisted: []Face{{Box: image.Rect(1, 1, 9, 9), Blurred: true}}},
			`{"frame": 5, "time": 0.000, "faces": []}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(AppendFrameJSON(nil, tt.f))
			if got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
			var v map[string]any
			if err := json.Unmarshal([]byte(got), &v); err != nil {
				t.Errorf("not valid JSON: %v", err)
			}
			// Read back and written again, the line is the same bytes
			// (people.Unify rewrites sidecars this way).
			back, err := ParseFrameJSON([]byte(got))
			if err != nil {
				t.Fatal(err)
			}
			if again := string(AppendFrameJSON(nil, back)); again != got {
				t.Errorf("round trip:\n%s\nwant\n%s", again, got)
			}
		})
	}
}

func TestSetClusters(t *testing.T) {
	line := `{"frame": 3, "time": 0.100, "faces": [{"box": [1, 2, 3, 4], "label": "Unknown", "known": false, "cluster": null, "distance": null, "margin": null, "crowd": null, "track": 12, "score": 0.900, "blurred": true}, ` +
		`{"box": [5, 6, 7, 8], "label": "A \"known\": false, \"cluster\": 1, \"track\": 9", "known": true, "cluster": null, "distance": 0.400, "margin": null, "crowd": null, "track": 7, "score": null}, ` +
		`{"box": [9, 9, 9, 9], "label": "Unknown", "known": false, "cluster": 4, "distance": null, "margin": null, "crowd": null, "track": 8, "score": 0.990}]}`
	got, err := SetClusters([]byte(line), func(track int, known bool) int {
		if known {
			return 99 // never asked to give a known face a cluster here
		}
		return map[int]int{12: 2}[track]
	})
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(strings.Replace(strings.Replace(line, `"cluster": null, "distance": null, "margin": null, "crowd": null, "track": 12`, `"cluster": 2, "distance": null, "margin": null, "crowd": null, "track": 12`, 1),
		`"known": true, "cluster": null`, `"known": true, "cluster": 99`, 1), `"cluster": 4`, `"cluster": null`, 1)
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	var v map[string]any
	if err := json.Unmarshal(got, &v); err != nil {
		t.Errorf("not JSON: %v", err)
	}
	if same, _ := SetClusters([]byte(`{"frame": 0, "time": 0.000, "faces": []}`), nil); string(same) != `{"frame": 0, "time": 0.000, "faces": []}` {
		t.Errorf("no faces: %s", same)
	}
}
