package stages

import (
	"context"
	"image"

	"gocv.io/x/gocv"

	"github.com/vidtag/vidtag/gallery"
	"github.com/vidtag/vidtag/track"
)

// Track follows faces from frame to frame and names them. It is a pipeline
// Holder: it keeps the last Lookahead frames, which buys two things offline.
//
//   - Naming: when a frame leaves, its faces are named with the evidence of
//     the frames after it too, so a track that starts blurry is named by its
//     clearer future and keeps one name.
//   - Backfill: the detector runs only on keyframes, so a face that appears
//     between two keyframes is first found at the later one. The new track
//     is then followed backwards through the held frames, down to the
//     keyframe before (where the detector did not see it) or a shot cut.
//
// With Lookahead 0 (live) names are decided causally and nothing is
// backfilled.
type Track struct {
	Lookahead int
	// BlurBackfill follows a new track further back, for the blur only:
	// past the keyframes where the detector missed the face (a small or
	// turned face is often found a keyframe late), down to a shot cut, lost
	// motion, another face, or the oldest held frame. Those frames get the
	// face in Frame.Unlisted, not in Faces: the sidecar still reports what
	// the detector and tracker vouch for, while the blur covers the face
	// from its first frame.
	BlurBackfill bool
	tracker      *track.Tracker
	flow         *Flow
	held         []*Frame         // consecutive frames, oldest first
	greys        map[int]gocv.Mat // flow image by frame number: held frames and the newest
	spare        []gocv.Mat
	boxes        []image.Rectangle
}

// NewTrack makes the tracking step for w x h frames. Close it after the run.
func NewTrack(cfg track.Config, g *gallery.Gallery, w, h, lookahead int) *Track {
	return &Track{Lookahead: lookahead, tracker: track.New(cfg, g), flow: NewFlow(w, h), greys: map[int]gocv.Mat{}}
}

// Push moves the tracks onto f, merges f's detections, backfills new faces
// and returns the frames whose look-ahead is complete.
func (t *Track) Push(_ context.Context, f *Frame) ([]*Frame, error) {
	grey := t.newGrey()
	t.flow.Prepare(f.Mat, &grey)
	t.greys[f.Seq] = grey

	if f.Cut {
		t.tracker.Reset()
	} else if tracks := t.tracker.Tracks(); len(tracks) > 0 {
		t.boxes = t.boxes[:0]
		for _, tk := range tracks {
			t.boxes = append(t.boxes, tk.Box)
		}
		moved, ok := t.flow.Move(t.greys[f.Seq-1], grey, t.boxes)
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
			dets[i] = track.Detection{Box: d.Box, Descriptor: d.Descriptor, Described: d.Described, Score: d.Score}
		}
		for _, tk := range t.tracker.ObserveWhere(f.Seq, dets, f.Sees) {
			detected[tk] = true
		}
	}
	f.Faces = f.Faces[:0]
	for _, tk := range t.tracker.Tracks() {
		f.Faces = append(f.Faces, Face{Box: tk.Box, Track: tk.ID, Detected: detected[tk], Score: tk.Score, track: tk})
		if tk.Born == f.Seq {
			t.backfill(f, tk)
		}
	}

	t.held = append(t.held, f)
	var out []*Frame
	if len(t.held) > t.Lookahead {
		out = []*Frame{t.held[0]}
		t.held = t.held[1:]
		t.tracker.Rename()
		name(out[0])
	}
	// Keep the greys of the held frames and of the newest one (the next
	// push moves from it).
	keep := f.Seq
	if len(t.held) > 0 {
		keep = t.held[0].Seq
	}
	for seq, m := range t.greys {
		if seq < keep {
			t.spare = append(t.spare, m)
			delete(t.greys, seq)
		}
	}
	return out, nil
}

// backfill follows a track born on frame f backwards through the held
// frames, adding it to each frame it is followed into, until a shot cut, a
// keyframe that looked where the face is (and did not see it: a keyframe
// that looked at other tiles is passed), a frame where it would overlap a
// face already there, or lost motion. With BlurBackfill it goes on past
// such keyframes, into Unlisted (see BlurBackfill).
func (t *Track) backfill(f *Frame, tk *track.Track) {
	box, next := tk.Box, f
	unlisted := false
	for i := len(t.held) - 1; i >= 0; i-- {
		g := t.held[i]
		if next.Cut {
			return
		}
		if g.Key && !unlisted && (g.Sees == nil || g.Sees(box)) {
			if !t.BlurBackfill {
				return
			}
			unlisted = true
		}
		moved, ok := t.flow.Move(t.greys[next.Seq], t.greys[g.Seq], []image.Rectangle{box})
		if !ok[0] {
			return
		}
		box = moved[0]
		for _, face := range g.Faces {
			if track.IoU(face.Box, box) > 0.3 {
				return
			}
		}
		face := Face{Box: box, Track: tk.ID, Score: tk.Score, track: tk}
		if unlisted {
			for _, u := range g.Unlisted {
				if track.IoU(u.Box, box) > 0.3 {
					return
				}
			}
			g.Unlisted = append(g.Unlisted, face)
		} else {
			g.Faces = append(g.Faces, face)
		}
		next = g
	}
}

func (t *Track) newGrey() gocv.Mat {
	if n := len(t.spare); n > 0 {
		m := t.spare[n-1]
		t.spare = t.spare[:n-1]
		return m
	}
	return gocv.NewMat()
}

// Flush names and returns the frames still held.
func (t *Track) Flush(context.Context) ([]*Frame, error) {
	out := t.held
	t.held = nil
	t.tracker.Rename()
	for _, f := range out {
		name(f)
	}
	return out, nil
}

// name copies each track's current identity onto the frame's faces, and
// moves the faces of tracks not confirmed by the time the frame leaves to
// Unlisted (named too: a blur policy may spare a known person).
func name(f *Frame) {
	kept := f.Faces[:0]
	for _, face := range f.Faces {
		confirmed := face.track.Confirmed
		label(&face)
		if !confirmed {
			f.Unlisted = append(f.Unlisted, face)
			continue
		}
		kept = append(kept, face)
	}
	clear(f.Faces[len(kept):])
	f.Faces = kept
	for i := range f.Unlisted {
		if f.Unlisted[i].track != nil {
			label(&f.Unlisted[i])
		}
	}
}

// label copies face's track's identity onto it and lets go of the track.
func label(face *Face) {
	m := face.track.Label()
	face.Identity, face.Descriptors = face.track.Identity()
	face.Label, face.Known, face.Distance, face.track = m.Label, m.Known, m.Distance, nil
	face.Margin, face.Crowd = m.Margin, m.Crowd
}

// Summaries is the tracker's record of every track's identity evidence
// (call it after Flush).
func (t *Track) Summaries() []track.Summary { return t.tracker.Summaries() }

// Close frees the flow images.
func (t *Track) Close() {
	t.flow.Close()
	for _, m := range t.greys {
		m.Close()
	}
	for _, m := range t.spare {
		m.Close()
	}
}
