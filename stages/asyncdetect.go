package stages

import (
	"context"
	"errors"
	"sync"

	"github.com/vidtag/vidtag/pipeline"
	"github.com/vidtag/vidtag/recog"
)

// AsyncDetect is the detect step of a live pipeline: the detector runs
// beside the pipeline, in its own time, so a frame never waits for it.
// Process offers each keyframe (a copy: the frame itself goes on at once)
// to a background detector through a leaky mailbox, which keeps only the
// newest keyframe when the detector is busy (the older one is dropped and
// counted), and attaches the detections finished since the last frame to
// the current one (Frame.Late), for the tracker to carry forward from the
// frame they were made on (Track.ObserveAt). It clears Frame.Key: the
// frame's own detections, if any, arrive on a later frame.
//
// Describing faces is what costs: a keyframe the schedule marks Describe
// may be dropped for a newer one that is not, so the detector describes
// whenever DescribeEvery frames have passed since it last did.
//
// Make it with NewAsyncDetect and Close it after the run; its goroutine
// stops on Close or when the context ends.
type AsyncDetect struct {
	Pool          *recog.Pool
	DescribeEvery int
	// Convert, when set, makes the JPEG go-face reads (HOG only).
	Convert *Convert
	// OnDetect, when set, is called after each detector run (live's
	// statistics).
	OnDetect func()

	box     *pipeline.Mailbox[*Frame]
	offered int // keyframes put in the mailbox (Process's goroutine only)
	mu      sync.Mutex
	done    []Detected
	err     error
	wg      sync.WaitGroup
}

// lateSlots bounds the finished detections waiting for a frame: should
// the pipeline stall, the oldest are dropped (newer ones supersede them).
const lateSlots = 8

// NewAsyncDetect starts the background detector.
func NewAsyncDetect(ctx context.Context, pool *recog.Pool, describeEvery int, convert *Convert, onDetect func()) *AsyncDetect {
	d := &AsyncDetect{Pool: pool, DescribeEvery: describeEvery, Convert: convert, OnDetect: onDetect,
		box: pipeline.NewMailbox[*Frame]()}
	d.wg.Add(1)
	go d.run(ctx)
	return d
}

// Process offers a keyframe to the detector and attaches finished
// detections to f. It returns the detector's error, which ends the run.
func (d *AsyncDetect) Process(_ context.Context, f *Frame) error {
	if f.Key {
		c := NewFrame(f.Seq, f.PTS, f.Mat.Clone(), nil)
		c.Key, c.Describe, c.Tile, c.Cut = true, f.Describe, f.Tile, f.Cut
		d.box.Put(c)
		d.offered++
		f.Key = false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return d.err
	}
	f.Late = append(f.Late, d.done...)
	clear(d.done)
	d.done = d.done[:0]
	return nil
}

// Offered is how many keyframes were offered to the detector: each was
// detected, dropped for a newer one, or still waiting when the run ended
// (call it after the run).
func (d *AsyncDetect) Offered() int { return d.offered }

// Dropped is how many keyframes never reached the detector.
func (d *AsyncDetect) Dropped() int { return d.box.Dropped() }

// run detects on the newest keyframe whenever the detector is free.
func (d *AsyncDetect) run(ctx context.Context) {
	defer d.wg.Done()
	detect := &Detect{Pool: d.Pool}
	lastDescribed := -1
	for {
		f, ok := d.box.Take(ctx)
		if !ok {
			return
		}
		// A described keyframe also looks at the whole frame, whatever
		// its tile turn (ultraface.Plan.Described).
		if lastDescribed < 0 || f.Seq-lastDescribed >= max(1, d.DescribeEvery) {
			f.Describe = true
		}
		var err error
		if d.Convert != nil {
			err = d.Convert.Process(ctx, f)
		}
		if err == nil {
			err = detect.Process(ctx, f)
		}
		got := Detected{Seq: f.Seq, Detections: f.Detections, Sees: f.Sees}
		if f.Describe {
			lastDescribed = f.Seq
		}
		f.Release()
		if err != nil {
			if ctx.Err() == nil || !errors.Is(err, ctx.Err()) {
				d.mu.Lock()
				d.err = err
				d.mu.Unlock()
			}
			return
		}
		if d.OnDetect != nil {
			d.OnDetect()
		}
		d.mu.Lock()
		if len(d.done) == lateSlots {
			d.done = append(d.done[:0], d.done[1:]...)
		}
		d.done = append(d.done, got)
		d.mu.Unlock()
	}
}

// Close stops the detector, waits for it and releases the keyframe still
// waiting, if any. It returns the detector's error.
func (d *AsyncDetect) Close() error {
	d.box.Close()
	d.wg.Wait()
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}
