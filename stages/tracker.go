package stages

import (
	"context"
	"image"

	"gocv.io/x/gocv"

	"github.com/vidtag/vidtag/gallery"
	"github.com/vidtag/vidtag/recog"
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
// With Lookahead 0 names are decided causally and nothing is backfilled
// (a face found late cannot be followed back into frames already gone).
// live runs it so, with detections that arrive late (Frame.Late): see
// ObserveAt and Keep.
type Track struct {
	Lookahead int
	// Keep is how many recent flow images are kept beyond the held frames
	// (live: 64), so that a detection made on an older frame can be
	// carried to the current one (ObserveAt). 0 keeps only the newest.
	Keep int
	// BlurBackfill follows a new track further back, for the blur only:
	// past the keyframes where the detector missed the face (a small or
	// turned face is often found a keyframe late), down to a shot cut, lost
	// motion, another face, or the oldest held frame. Those frames get the
	// face in Frame.Unlisted, not in Faces: the sidecar still reports what
	// the detector and tracker vouch for, while the blur covers the face
	// from its first frame.
	BlurBackfill bool
	// DropPixels: no step after the look-ahead draws or encodes (a
	// sidecar-only run), so a frame without a face the detector found on
	// it gives its pixels back as it enters the look-ahead; the frames
	// with one keep theirs for the people file's face crops. With a face
	// found at every 5th frame, a 1 s look-ahead then holds 6 frame
	// buffers instead of 30.
	DropPixels bool
	tracker    *track.Tracker
	flow       *Flow
	held       []*Frame         // consecutive frames, oldest first
	greys      map[int]gocv.Mat // flow image by frame number: held frames and the newest
	spare      []gocv.Mat
	boxes      []image.Rectangle
	prevSeq    int // the frame pushed last (-1: none)
	cutSeq     int // the last shot cut
}

// NewTrack makes the tracking step for w x h frames. Close it after the run.
func NewTrack(cfg track.Config, g *gallery.Gallery, w, h, lookahead int) *Track {
	return &Track{Lookahead: lookahead, tracker: track.New(cfg, g), flow: NewFlow(w, h), greys: map[int]gocv.Mat{}, prevSeq: -1}
}

// Push moves the tracks onto f, merges f's detections, backfills new faces
// and returns the frames whose look-ahead is complete.
func (t *Track) Push(_ context.Context, f *Frame) ([]*Frame, error) {
	grey := t.newGrey()
	t.flow.Prepare(f, &grey)
	t.greys[f.Seq] = grey
	f.DropGrey() // no later step reads it

	// The previous frame is the one pushed last: a live source drops
	// frames, so it need not be f.Seq-1.
	prev, hasPrev := t.greys[t.prevSeq]
	t.prevSeq = f.Seq
	if f.Cut {
		t.tracker.Reset()
		t.cutSeq = f.Seq
	} else if tracks := t.tracker.Tracks(); len(tracks) > 0 && hasPrev {
		t.boxes = t.boxes[:0]
		for _, tk := range tracks {
			t.boxes = append(t.boxes, tk.Box)
		}
		moved, ok := t.flow.Move(prev, grey, t.boxes)
		i := 0
		t.tracker.Move(func(*track.Track) (image.Rectangle, bool) {
			defer func() { i++ }()
			return moved[i], ok[i]
		})
	}
	detected := map[*track.Track]bool{}
	if f.Key {
		for _, tk := range t.tracker.ObserveWhere(f.Seq, trackDetections(f.Detections), f.Sees) {
			detected[tk] = true
		}
	}
	for _, d := range f.Late {
		for _, tk := range t.ObserveAt(f, d) {
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

	if t.DropPixels && !anyDetected(f.Faces) {
		f.DropPixels()
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
	keep := f.Seq - t.Keep
	if len(t.held) > 0 {
		keep = min(keep, t.held[0].Seq)
	}
	for seq, m := range t.greys {
		if seq < keep {
			t.spare = append(t.spare, m)
			delete(t.greys, seq)
		}
	}
	return out, nil
}

// trackDetections converts the detector's answer for the tracker.
func trackDetections(ds []recog.Detection) []track.Detection {
	dets := make([]track.Detection, len(ds))
	for i, d := range ds {
		dets[i] = track.Detection{Box: d.Box, Descriptor: d.Descriptor, Described: d.Described, Score: d.Score}
	}
	return dets
}

// ObserveAt is the causal entry point for a detection made on an earlier
// frame d.Seq that arrives with frame f (the newest, being pushed): each
// box is carried from d.Seq to f by the same optical flow that moves the
// tracks, from the flow images Keep retains, and then merged as if f had
// been detected. A detection from before the last shot cut is dropped (its
// faces belong to the previous shot); one older than the retained images
// is merged where it was found. It returns the tracks the detection
// matched or started.
func (t *Track) ObserveAt(f *Frame, d Detected) []*track.Track {
	if d.Seq < t.cutSeq || d.Seq > f.Seq {
		return nil
	}
	dets := trackDetections(d.Detections)
	from, okFrom := t.greys[d.Seq]
	if d.Seq != f.Seq && okFrom && len(dets) > 0 {
		t.boxes = t.boxes[:0]
		for _, det := range dets {
			t.boxes = append(t.boxes, det.Box)
		}
		moved, ok := t.flow.Move(from, t.greys[f.Seq], t.boxes)
		for i := range dets {
			if ok[i] {
				dets[i].Box = moved[i]
			}
		}
	}
	return t.tracker.ObserveWhere(f.Seq, dets, d.Sees)
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

// anyDetected reports whether the detector found one of faces on its frame.
func anyDetected(faces []Face) bool {
	for _, f := range faces {
		if f.Detected {
			return true
		}
	}
	return false
}
