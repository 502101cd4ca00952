package live

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/vidtag/vidtag/stages"
)

func TestEventsEnterLeaveAndRelabel(t *testing.T) {
	var buf bytes.Buffer
	e := newEventLog(&buf)
	frame := func(ms int, faces ...stages.Face) *stages.Frame {
		return &stages.Frame{PTS: time.Duration(ms) * time.Millisecond, Faces: faces}
	}
	e.update(frame(0, stages.Face{Track: 1, Label: "Unknown"}))
	e.update(frame(40, stages.Face{Track: 1, Label: "Ann"}, stages.Face{Track: 2, Label: "Bob"}))
	e.update(frame(80, stages.Face{Track: 2, Label: "Bob"}))
	e.close(0)
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var ev Event
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatal(err)
		}
		got = append(got, ev.Event+" "+ev.Label)
		if ev.Wall == "" {
			t.Errorf("no wall time in %s", line)
		}
	}
	want := []string{"enter Unknown", "leave Unknown", "enter Ann", "enter Bob", "leave Ann", "leave Bob"}
	if len(got) != len(want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d: %q, want %q", i, got[i], want[i])
		}
	}
}
