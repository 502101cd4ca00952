package live

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
	"gocv.io/x/gocv"

	"github.com/vidtag/vidtag/internal/cvlibs"
	"github.com/vidtag/vidtag/media"
	"github.com/vidtag/vidtag/stages"
)

// Source says where frames come from.
type Source struct {
	// Camera is a device index (>= 0), or -1 when Input is used.
	Camera int
	// Input is a file, or an RTSP/HTTP URL.
	Input string
	// Loop replays a file input from the start when it ends.
	Loop bool
	// Reconnects is how many times in a row a lost camera or stream is
	// reopened (with back-off: 0.5 s, doubling, at most 10 s apart)
	// before the session gives up; 0 means DefaultReconnects.
	Reconnects int
}

// DefaultReconnects gives up on a lost source after about 45 s
// (0.5+1+2+4+8+10+10+10 s of waiting).
const DefaultReconnects = 8

func (s Source) String() string {
	if s.Camera >= 0 {
		return "camera " + strconv.Itoa(s.Camera)
	}
	return s.Input
}

// isFile reports whether the input is a local file rather than a camera
// or a URL: anything that does not look like a URL is a file (a missing
// one is "no such file", not a stream that cannot be opened).
func (s Source) isFile() bool {
	return s.Camera < 0 && !IsURL(s.Input)
}

// IsURL reports whether input names a network stream (scheme://...).
func IsURL(input string) bool {
	scheme, _, ok := strings.Cut(input, "://")
	return ok && scheme != "" && !strings.ContainsAny(scheme, "/\\.")
}

// ErrSourceEnded means a file input reached its end (without Loop).
var errSourceEnded = errors.New("source ended")

// capture reads frames from a camera, stream or file. A file plays at its
// own frame rate (it stands in for a camera); a camera or stream that stops
// delivering is reopened with back-off, and the log says so.
type capture struct {
	src     Source
	log     *zap.Logger
	vc      *gocv.VideoCapture
	pool    stages.MatPool
	fps     float64
	w, h    int
	seq     int
	start   time.Time     // wall time of this pass's first frame (files)
	base    time.Duration // PTS offset of earlier loop passes (files)
	pauseAt time.Duration // pause total when this pass started
	lastPTS time.Duration
	paused  pausedClock
	length  int // frames the source says it has (0: a live stream)
	read    int // frames read since it was opened
}

// pausedClock lets the window pause playback of a file.
type pausedClock struct {
	mu     sync.Mutex
	paused bool
	since  time.Time
	total  time.Duration
}

func (p *pausedClock) set(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if on == p.paused {
		return
	}
	p.paused = on
	if on {
		p.since = time.Now()
	} else {
		p.total += time.Since(p.since)
	}
}

func (p *pausedClock) state() (bool, time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.paused, p.total
}

func openCapture(ctx context.Context, src Source, log *zap.Logger) (*capture, error) {
	c := &capture{src: src, log: log}
	if src.isFile() {
		// A file is checked like any input: OpenCV opens things that are
		// not videos.
		if _, err := media.Probe(ctx, src.Input); err != nil {
			return nil, err
		}
	}
	if err := c.open(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *capture) open() error {
	if err := cvlibs.Need(cvlibs.Videoio); err != nil {
		return err
	}
	var vc *gocv.VideoCapture
	var err error
	if c.src.Camera >= 0 {
		vc, err = gocv.OpenVideoCapture(c.src.Camera)
	} else {
		vc, err = gocv.VideoCaptureFile(c.src.Input)
	}
	if err != nil || !vc.IsOpened() {
		if vc != nil {
			vc.Close()
		}
		if c.src.Camera >= 0 {
			return fmt.Errorf("camera %d: cannot open it (no such device, or busy)", c.src.Camera)
		}
		return fmt.Errorf("%s: cannot open it", c.src.Input)
	}
	c.vc = vc
	c.fps = vc.Get(gocv.VideoCaptureFPS)
	if c.fps <= 0 || c.fps > 240 {
		c.fps = 30
	}
	c.w, c.h = int(vc.Get(gocv.VideoCaptureFrameWidth)), int(vc.Get(gocv.VideoCaptureFrameHeight))
	c.length = max(0, int(vc.Get(gocv.VideoCaptureFrameCount)))
	c.read = 0
	c.start = time.Time{}
	return nil
}

// ended reports whether a failed read is the end of the source: a file,
// or a URL that says how many frames it has and has given (nearly) all
// of them. A camera, a live stream or a URL cut short is lost instead.
func (c *capture) ended() bool {
	if c.src.isFile() {
		return true
	}
	return c.src.Camera < 0 && c.length > 0 && c.read >= c.length-2
}

// next returns the next frame, waiting for its time when playing a file
// or a URL.
func (c *capture) next(ctx context.Context) (*stages.Frame, error) {
	backoff := 500 * time.Millisecond
	tries := c.src.Reconnects
	if tries <= 0 {
		tries = DefaultReconnects
	}
	var lostAt time.Time
	resume := 0 // frame to seek to in a URL with a length, after a reconnect
	for try := 0; ; {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if c.vc != nil {
			m := c.pool.Get()
			if c.vc.Read(&m) && !m.Empty() {
				c.read++
				return c.frame(ctx, m)
			}
			c.pool.Put(m)
		}
		// End of file, or a camera/stream that stopped delivering.
		if c.vc != nil && c.ended() {
			if !c.src.Loop || c.seq == 0 {
				return nil, errSourceEnded
			}
			c.base = c.lastPTS + time.Duration(float64(time.Second)/c.fps)
			c.vc.Set(gocv.VideoCapturePosFrames, 0)
			c.read = 0
			c.start = time.Time{}
			continue
		}
		if c.vc != nil {
			resume = c.read
			c.vc.Close()
			c.vc = nil
			lostAt = time.Now()
		}
		if try == tries {
			return nil, fmt.Errorf("%s: source lost; gave up after %d reconnects over %s", c.src,
				tries, time.Since(lostAt).Round(100*time.Millisecond))
		}
		try++
		c.log.Warn("source lost; reconnecting", zap.Stringer("source", c.src), zap.Duration("in", backoff),
			zap.Int("try", try), zap.Int("of", tries))
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		backoff = min(2*backoff, 10*time.Second)
		if err := c.open(); err == nil {
			c.log.Info("source back", zap.Stringer("source", c.src))
			if c.length > 0 && resume > 0 && resume < c.length {
				// A file behind a URL: go on where it stopped.
				c.vc.Set(gocv.VideoCapturePosFrames, float64(resume))
				c.read = resume
			}
			backoff, try = 500*time.Millisecond, 0
		}
	}
}

func (c *capture) frame(ctx context.Context, m gocv.Mat) (*stages.Frame, error) {
	now := time.Now()
	var pts time.Duration
	if c.src.isFile() || c.length > 0 { // a file, or a file behind a URL, plays at its own rate
		pts = c.base + time.Duration(c.vc.Get(gocv.VideoCapturePosMsec)*float64(time.Millisecond))
		if c.seq > 0 && pts <= c.lastPTS {
			pts = c.lastPTS + time.Duration(float64(time.Second)/c.fps)
		}
		// Play at the file's own rate: frame k is due at start + its time.
		if c.start.IsZero() {
			c.start = now.Add(-(pts - c.base))
			_, c.pauseAt = c.paused.state()
		}
		for {
			paused, pausedFor := c.paused.state()
			due := c.start.Add(pts - c.base + pausedFor - c.pauseAt)
			if !paused && !now.Before(due) {
				break
			}
			wait := due.Sub(now)
			if paused || wait > 50*time.Millisecond {
				wait = 20 * time.Millisecond
			}
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				c.pool.Put(m)
				return nil, ctx.Err()
			}
			now = time.Now()
		}
	} else {
		pts = time.Duration(c.seq) * time.Duration(float64(time.Second)/c.fps)
	}
	c.lastPTS = pts
	f := stages.NewFrame(c.seq, pts, m, &c.pool)
	f.Captured = now
	c.seq++
	return f, nil
}

func (c *capture) close() {
	if c.vc != nil {
		c.vc.Close()
	}
	c.pool.Close()
}
