package live

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vidtag/vidtag/stages"
)

// TestEventsHysteresis: one appearance is one enter and one leave, however
// the detector and tracker cut it up; the leave carries the last time the
// person was seen.
func TestEventsHysteresis(t *testing.T) {
	ann := func(track int) stages.Face { return stages.Face{Track: track, Label: "Ann", Known: true} }
	bob := func(track int) stages.Face { return stages.Face{Track: track, Label: "Bob", Known: true} }
	unk := func(track int) stages.Face { return stages.Face{Track: track, Label: "Unknown"} }
	type at struct {
		ms    int
		faces []stages.Face
	}
	tests := []struct {
		name   string
		frames []at
		want   []string // "event label time"
	}{
		{"enter, leave at the end", []at{{0, []stages.Face{ann(1)}}, {40, []stages.Face{ann(1), bob(2)}}, {80, []stages.Face{bob(2)}}},
			[]string{"enter Ann 0", "enter Bob 0.04", "leave Ann 0.04", "leave Bob 0.08"}},
		{"dropped for a second: one appearance", []at{{0, []stages.Face{ann(1)}}, {500, nil}, {1500, nil}, {1600, []stages.Face{ann(1)}}, {2000, []stages.Face{ann(1)}}},
			[]string{"enter Ann 0", "leave Ann 2"}},
		{"new track, same person", []at{{0, []stages.Face{ann(1)}}, {300, nil}, {600, []stages.Face{ann(7)}}},
			[]string{"enter Ann 0", "leave Ann 0.6"}},
		{"two tracks named alike do not overlap", []at{{0, []stages.Face{ann(1)}}, {100, []stages.Face{ann(1), ann(2)}}, {200, []stages.Face{ann(2)}}},
			[]string{"enter Ann 0", "leave Ann 0.2"}},
		{"gone longer than the hold: two appearances", []at{{0, []stages.Face{ann(1)}}, {1000, nil}, {2500, nil}, {3000, []stages.Face{ann(3)}}},
			[]string{"enter Ann 0", "leave Ann 0", "enter Ann 3", "leave Ann 3"}},
		{"unknown faces follow their tracks", []at{{0, []stages.Face{unk(1), unk(2)}}, {40, []stages.Face{unk(1)}}},
			[]string{"enter Unknown 0", "enter Unknown 0", "leave Unknown 0", "leave Unknown 0.04"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			e := newEventLog(&buf, 2*time.Second)
			for _, f := range tt.frames {
				e.update(&stages.Frame{PTS: time.Duration(f.ms) * time.Millisecond, Faces: f.faces})
			}
			e.close(0)
			var got []string
			for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
				var ev Event
				if err := json.Unmarshal([]byte(line), &ev); err != nil {
					t.Fatal(err)
				}
				if ev.Wall == "" {
					t.Errorf("no wall time in %s", line)
				}
				got = append(got, ev.Event+" "+ev.Label+" "+strconv.FormatFloat(ev.Time, 'f', -1, 64))
			}
			if strings.Join(got, "; ") != strings.Join(tt.want, "; ") {
				t.Errorf("events\n%v\nwant\n%v", got, tt.want)
			}
		})
	}
}
