package media

// #cgo pkg-config: libavformat libavcodec libavutil libswscale libswresample
// #cgo LDFLAGS: -lm
// #include <stdlib.h>
// #include "encoder.h"
import "C"

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unsafe"

	"github.com/vidtag/vidtag/internal/outfile"
)

// WriterOptions describe the MP4 to write.
type WriterOptions struct {
	Path      string // final path; the file appears there only on Commit
	Width     int
	Height    int
	FrameRate Rational
	// Start is the first frame's time in seconds on the input's clock, so
	// that the video keeps its offset against the input's audio.
	Start float64
	// AudioFrom, when set, is a file whose first audio stream is kept.
	AudioFrom  string
	AudioCodec string // codec of that stream; AAC and MP3 are copied, others re-encoded to AAC
	Preset     string // x264 preset (default "veryfast")
	CRF        int    // x264 constant rate factor (default 20)
	Force      bool   // replace an existing file at Path
	// Threads caps the encoder's threads (0: x264 chooses, 1.5 per core).
	Threads int
	// X264Params are further x264 options, as ffmpeg's -x264-params takes
	// them ("key=value:key=value").
	X264Params string
	// TimeScale, when 1000 or more, is the video track's clock rate in
	// ticks per second: the input's time base, so that its timestamps carry
	// over tick for tick (a coarser one is left to the muxer).
	TimeScale int
	// I420 means frames arrive as planar YUV 4:2:0 (BT.601, limited range,
	// as OpenCV's BGR2YUV_I420 writes them) instead of packed BGR; it needs
	// an even width and height.
	I420 bool
}

// EncodedSize is the size of the video the writer makes for w x h frames:
// H.264 in 4:2:0 needs even sides, so an odd width or height gets one
// black column on the right or one black row at the bottom. Nothing is
// cropped, so coordinates in the frame stay valid in the video.
func EncodedSize(w, h int) (int, int) { return w + w%2, h + h%2 }

// ErrExists means the output is already there and Force is off.
var ErrExists = errors.New("already exists (use --force to overwrite)")

// Writer encodes raw frames into an MP4 (H.264 yuv420p, +faststart, the
// input's audio): libx264 and the mp4 muxer in this process, through
// libavcodec and libavformat (encoder.c). WriteFrame is not safe for
// concurrent use.
type Writer struct {
	enc     *C.vt_encoder
	pending *outfile.Pending
	path    string
	frame   int // bytes per frame
	frames  int
	lastUS  int64         // the last frame's time handed to the encoder (µs)
	lastPTS time.Duration // of the last frame written
	streams *Streams      // what the check found in the finished file
	rate    Rational
	done    bool
	ended   bool // Finish has run
}

// CheckWritable fails early, before any work, when path cannot be created:
// it exists (and force is off), or its folder is missing or read-only.
func CheckWritable(path string, force bool) error {
	if st, err := os.Stat(path); err == nil {
		if st.IsDir() {
			return fmt.Errorf("%s: is a folder", path)
		}
		if !force {
			return fmt.Errorf("%s: %w", path, ErrExists)
		}
	}
	if st, err := os.Stat(filepath.Dir(path)); err == nil && !st.IsDir() {
		return fmt.Errorf("%s: cannot write here: %s is not a folder", path, filepath.Dir(path))
	}
	p, err := outfile.Create(path, 0o644)
	if err != nil {
		return fmt.Errorf("%s: cannot write here: %w", path, outfile.UnwrapPathError(err))
	}
	p.Cleanup()
	return nil
}

// NewWriter creates the MP4 under a temporary name beside o.Path.
//
// The encoder runs in this process: as an ffmpeg process fed through a
// pipe, every frame was copied into the pipe and out of it again, and
// demuxed, and the process loaded 216 libraries before its first frame:
// 1 s of CPU in a 720p annotate of 9, side by side.
func NewWriter(o WriterOptions) (*Writer, error) {
	if err := CheckWritable(o.Path, o.Force); err != nil {
		return nil, err
	}
	if o.Width <= 0 || o.Height <= 0 || o.FrameRate.Num <= 0 || o.FrameRate.Den <= 0 {
		return nil, fmt.Errorf("%s: bad video geometry %dx%d @ %v", o.Path, o.Width, o.Height, o.FrameRate)
	}
	if o.Preset == "" {
		o.Preset = "veryfast"
	}
	if o.CRF == 0 {
		o.CRF = 20
	}
	frameBytes := o.Width * o.Height * 3
	if o.I420 {
		if o.Width%2 != 0 || o.Height%2 != 0 {
			return nil, fmt.Errorf("%s: I420 input needs an even size, got %dx%d", o.Path, o.Width, o.Height)
		}
		frameBytes = o.Width * o.Height * 3 / 2
	}
	pending, err := outfile.Create(o.Path, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s: cannot write here: %w", o.Path, outfile.UnwrapPathError(err))
	}
	path, preset := C.CString(pending.Name()), C.CString(o.Preset)
	defer C.free(unsafe.Pointer(path))
	defer C.free(unsafe.Pointer(preset))
	opts := C.vt_encoder_opts{path: path, width: C.int(o.Width), height: C.int(o.Height), bgr: 1,
		fps_num: C.int(o.FrameRate.Num), fps_den: C.int(o.FrameRate.Den), preset: preset, crf: C.int(o.CRF),
		threads: C.int(max(o.Threads, 0)), start: C.double(o.Start)}
	if o.TimeScale >= 1000 { // coarser clocks round VFR timestamps
		opts.timescale = C.int(o.TimeScale)
	}
	if o.I420 {
		opts.bgr = 0
	}
	if o.X264Params != "" {
		opts.x264_params = C.CString(o.X264Params)
		defer C.free(unsafe.Pointer(opts.x264_params))
	}
	if o.AudioFrom != "" {
		opts.audio_from = C.CString(o.AudioFrom)
		defer C.free(unsafe.Pointer(opts.audio_from))
		switch o.AudioCodec {
		case "aac", "mp3":
			opts.audio_copy = 1
		default: // browsers do not play AC-3, PCM, Vorbis... in MP4: AAC, 160 kb/s
		}
	}
	w := &Writer{pending: pending, path: o.Path, frame: frameBytes, rate: o.FrameRate, lastUS: math.MinInt64}
	var log *C.char
	rc := C.vt_encoder_open(&opts, &w.enc, &log)
	if err := encoderError(rc, log); err != nil {
		w.Abort()
		return nil, fmt.Errorf("%s: encoder failed: %w", o.Path, err)
	}
	return w, nil
}

// encoderError is nil for rc >= 0, else libav's last error-level message
// of the call, or the code's own text.
func encoderError(rc C.int, log *C.char) error {
	var msg string
	if log != nil {
		msg = strings.TrimSpace(C.GoString(log))
		C.free(unsafe.Pointer(log))
	}
	if rc >= 0 {
		return nil
	}
	if msg != "" {
		return errors.New(lastLine(msg, ""))
	}
	return avError(rc)
}

// WriteFrame writes the next frame at the writer's constant frame rate:
// width*height*3 bytes of packed BGR, or width*height*3/2 of planar I420.
func (w *Writer) WriteFrame(pix []byte) error {
	pts := time.Duration(float64(w.frames) * float64(time.Second) / w.rate.Float())
	return w.WriteFrameAt(pix, pts)
}

// WriteFrameAt writes the next frame at pts, its time from the stream's
// first frame (the input's own timestamp, so variable frame rates keep
// their timing). Times must increase.
func (w *Writer) WriteFrameAt(pix []byte, pts time.Duration) error {
	if len(pix) != w.frame {
		return fmt.Errorf("%s: frame has %d bytes, want %d", w.path, len(pix), w.frame)
	}
	// Times must move forward for the encoder and the muxer: one that does
	// not is moved to 1 µs after the previous frame.
	us := max(pts.Microseconds(), w.lastUS+1)
	var log *C.char
	rc := C.vt_encoder_write(w.enc, (*C.uint8_t)(unsafe.Pointer(&pix[0])), C.int64_t(us), &log)
	if err := encoderError(rc, log); err != nil {
		return fmt.Errorf("%s: encoder failed: %w", w.path, err)
	}
	w.lastUS = us
	w.frames++
	w.lastPTS = pts
	return nil
}

// Frames is the number of frames written so far.
func (w *Writer) Frames() int { return w.frames }

// Finish waits for the encoder to complete the file, which stays under
// its temporary name, and checks it (libavformat opens it without a complaint,
// and it holds every frame written, for their duration); Commit then
// renames it into place. It lets a caller put other outputs in place
// between the two. On any error nothing is left under either name.
func (w *Writer) Finish() error {
	if w.done {
		return errors.New("media: writer already finished")
	}
	if w.ended {
		return nil
	}
	w.ended = true
	var log *C.char
	rc := C.vt_encoder_finish(w.enc, &log)
	C.vt_encoder_free(w.enc)
	w.enc = nil
	if err := encoderError(rc, log); err != nil {
		w.done = true
		w.pending.Cleanup()
		return fmt.Errorf("%s: encoder failed: %w", w.path, err)
	}
	streams, err := verify(w.pending.Name(), w.frames, w.lastPTS, w.rate)
	if err != nil {
		w.done = true
		w.pending.Cleanup()
		return fmt.Errorf("%s: not written correctly (%s); nothing was kept", w.path, err)
	}
	w.streams = streams
	return nil
}

// Commit finishes the file (see Finish) and renames it into place.
func (w *Writer) Commit() error {
	if err := w.Finish(); err != nil {
		return err
	}
	w.done = true
	if err := w.pending.Commit(); err != nil {
		return fmt.Errorf("%s: %w", w.path, outfile.UnwrapPathError(err))
	}
	Remember(w.path, w.streams) // the bytes just checked, under their final name
	return nil
}

// verify checks a finished MP4: libavformat reads its video stream without
// an error (a missing moov atom, a cut mdat), the stream counts the
// frames written, and lasts at least as long as they do (to the last
// frame's timestamp plus one frame, within two frames: a variable frame
// rate's pauses count).
func verify(path string, frames int, last time.Duration, rate Rational) (*Streams, error) {
	s, warnings, err := probeStreams(context.Background(), path)
	if warnings != "" {
		return nil, errors.New(lastLine(warnings, path))
	}
	if err != nil {
		return nil, err
	}
	n := -1
	var dur float64
	for _, st := range s.Streams {
		if st.CodecType == "video" {
			n, dur = st.NbFrames, st.Duration
			break
		}
	}
	if n != frames {
		return nil, fmt.Errorf("it holds %d frames of the %d written", max(n, 0), frames)
	}
	if fps := rate.Float(); fps > 0 && frames > 0 {
		if want := last.Seconds() + 1/fps; dur < want-2/fps-0.001 {
			return nil, fmt.Errorf("it lasts %.3fs, want %.3fs for %d frames", dur, want, frames)
		}
	}
	return s, nil
}

// Abort stops the encoder and removes the temporary file. It is safe to
// call after Commit, where it does nothing.
func (w *Writer) Abort() {
	if w.done {
		return
	}
	w.done = true
	C.vt_encoder_free(w.enc) // NULL-safe
	w.enc = nil
	w.pending.Cleanup()
}
