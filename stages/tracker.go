package stages

import (
	"context"
	"image"

	"github.com/vidtag/vidtag/gallery"
	"github.com/vidtag/vidtag/track"
)

// Track follows faces from frame to frame and names them. It is a pipeline
// Holder: it keeps the last Lookahead frames, so that when a frame leaves,
// its faces are named with the evidence of the frames after it too (a track
// that starts with a blurry, uncertain face is named by its clearer
// future). With Lookahead 0 (live) names are decided causally.
type Track struct {
	Lookahead int
	tracker   *track.Tracker
	flow      *Flow
	held      []*Frame
	boxes     []image.Rectangle
}

// NewTrack makes the tracking step for w x h frames. Close it after the run.
func NewTrack(cfg track.Config, g *gallery.Gallery, w, h, lookahead int) *Track {
	return &Track{Lookahead: lookahead, tracker: track.New(cfg, g), flow: NewFlow(w, h)}
}

// Push moves the tracks onto f, merges f's detections and returns the frames
// whose look-ahead is complete.
func (t *Track) Push(_ context.Context, f *Frame) ([]*Frame, error) {
	t.flow.Add(f.Mat)
	if f.Cut {
		t.tracker.Reset()
	} else if tracks := t.tracker.Tracks(); len(tracks) > 0 {
		t.boxes = t.boxes[:0]
		for _, tk := range tracks {
			t.boxes = append(t.boxes, tk.Box)
		}
		moved, ok := t.flow.Move(t.boxes)
		i := 0
		t.tracker.Move(func(*track.Track) (image.Rectangle, bool) {
			defer func() { i++ }()
			return moved[i], ok[i]
		})
	}
	detected := map[*track.Track]bool{}
	if f.Key {
		dets := make([]track.Detection, len(f.Detections))
		for i, d := range f.Detections {
			dets[i] = track.Detection{Box: d.Box, Descriptor: d.Descriptor}
		}
		for _, tk := range t.tracker.Observe(f.Seq, dets) {
			detected[tk] = true
		}
	}
	f.Faces = f.Faces[:0]
	for _, tk := range t.tracker.Tracks() {
		f.Faces = append(f.Faces, Face{Box: tk.Box, Track: tk.ID, Detected: detected[tk], track: tk})
	}
	t.held = append(t.held, f)
	if len(t.held) <= t.Lookahead {
		return nil, nil
	}
	out := t.held[0]
	t.held = t.held[1:]
	name(out)
	return []*Frame{out}, nil
}

// Flush names and returns the frames still held.
func (t *Track) Flush(context.Context) ([]*Frame, error) {
	out := t.held
	t.held = nil
	for _, f := range out {
		name(f)
	}
	return out, nil
}

// name copies each track's current identity onto the frame's faces.
func name(f *Frame) {
	for i := range f.Faces {
		m := f.Faces[i].track.Label()
		f.Faces[i].Label, f.Faces[i].Known, f.Faces[i].Distance = m.Label, m.Known, m.Distance
		f.Faces[i].track = nil
	}
}

// Close frees the flow images.
func (t *Track) Close() { t.flow.Close() }
