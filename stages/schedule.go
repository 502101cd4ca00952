package stages

import (
	"context"
	"image"

	"gocv.io/x/gocv"
)

// Schedule decides which frames the detector sees: every Every-th frame
// since the last keyframe, and the first frame of every shot. Of those, it
// marks the ones whose faces are also described (Describe): the first of a
// shot, and the first keyframe DescribeEvery or more frames after the last
// described one. Finding a face with the CNN costs a fraction of
// describing it, so faces are found often (boxes stay tight and new faces
// appear quickly) and described about as often as naming needs. It finds shot
// cuts by comparing tiny grey thumbnails of consecutive frames: a hard cut
// changes most pixels at once, motion within a shot changes few. Tracks end
// at a cut, so boxes never slide from one shot into the next.
type Schedule struct {
	Every        int     // detect on every Every-th frame (1: all frames)
	CutThreshold float64 // mean absolute thumbnail difference (0-255) that marks a cut; 0 disables
	// DescribeEvery is the least distance in frames between described
	// keyframes (1 or less: describe every keyframe).
	DescribeEvery int
	sinceKey      int
	sinceDescribe int
	turn          int // keyframes since the shot's first
	thumb, prev   gocv.Mat
	grey          gocv.Mat
	started       bool
}

// thumbSize is small enough to ignore noise and motion, large enough to see
// a cut. Bilinear shrinking reads only 4 source pixels per thumbnail pixel
// (INTER_AREA reads them all: 3.6 ms a 1080p frame instead of 0.1 ms); the
// samples sit at the same places in every frame, so a still scene still
// gives a near-zero difference.
var thumbSize = image.Pt(96, 54)

// NewSchedule makes a schedule; Close it after the run.
func NewSchedule(every int, cutThreshold float64) *Schedule {
	return &Schedule{Every: max(1, every), CutThreshold: cutThreshold, thumb: gocv.NewMat(), prev: gocv.NewMat(), grey: gocv.NewMat()}
}

// Process marks f.Cut, f.Key, f.Describe and f.Tile, and has a frame the
// reader left as a decoded picture converted to BGR if it is a keyframe
// (Frame.Develop).
func (s *Schedule) Process(_ context.Context, f *Frame) error {
	if s.CutThreshold > 0 {
		if f.HasGrey() {
			gocv.Resize(f.Grey, &s.thumb, thumbSize, 0, 0, gocv.InterpolationLinear)
		} else {
			gocv.Resize(f.Mat, &s.grey, thumbSize, 0, 0, gocv.InterpolationLinear)
			gocv.CvtColor(s.grey, &s.thumb, gocv.ColorBGRToGray)
		}
		if s.started {
			f.Cut = meanAbsDiff(s.thumb, s.prev) > s.CutThreshold
		}
		s.thumb, s.prev = s.prev, s.thumb
	}
	first := !s.started || f.Cut // the first frame of a shot
	f.Key = first || s.sinceKey+1 >= s.Every
	f.Describe = f.Key && (first || s.sinceDescribe+1 >= s.DescribeEvery)
	s.started = true
	if f.Key {
		s.sinceKey = 0
	} else {
		s.sinceKey++
	}
	if f.Describe {
		s.sinceDescribe = 0
	} else {
		s.sinceDescribe++
	}
	// The first keyframe of a shot looks everywhere; the keyframes after
	// it take turns (ultraface.Plan.Turn), counted from the start of the
	// shot so that every tile gets its turn, and a described one also
	// looks at the whole frame (Plan.Described).
	f.Tile = 0
	if first {
		s.turn = 0
	} else if f.Key {
		s.turn++
		f.Tile = s.turn
	}
	return f.Develop(f.Key)
}

// meanAbsDiff is the mean absolute difference of two same-size 8-bit images.
func meanAbsDiff(a, b gocv.Mat) float64 {
	da, _ := a.DataPtrUint8()
	db, _ := b.DataPtrUint8()
	sum := 0
	for i := range da {
		d := int(da[i]) - int(db[i])
		if d < 0 {
			d = -d
		}
		sum += d
	}
	return float64(sum) / float64(len(da))
}

// Close frees the thumbnails.
func (s *Schedule) Close() {
	s.thumb.Close()
	s.prev.Close()
	s.grey.Close()
}
