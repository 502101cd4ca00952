package stages

import (
	"encoding/json"
	"image"
	"math"
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
