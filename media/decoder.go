package media

// #cgo pkg-config: libavformat libavcodec libavutil libswscale
// #include <stdlib.h>
// #include "decoder.h"
import "C"

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Decoder decodes a file's first video stream into BGR frames, as OpenCV's
// FFmpeg backend (cv::VideoCapture) does, frame for frame and byte for
// byte (but for the last rows of 10-bit frames: decoder.c), into buffers
// the caller owns: OpenCV converts each frame into a buffer of its own and
// copies it out, 1.4% of a 720p annotate's CPU time in memmove alone. Open it on a probed file: libavformat opens things that are not
// videos.
type Decoder struct {
	d    *C.vt_decoder
	W, H int        // frame size, pixels
	mu   sync.Mutex // the converter (BGR, Picture.BGR)
}

var quietOnce sync.Once

// quiet keeps the decoders' complaints about damaged input off stderr (the
// reader reports such problems itself, in one line), as vidtag did when
// OpenCV decoded: OPENCV_FFMPEG_LOGLEVEL, when the user sets it, is the
// level, as OpenCV took it; otherwise nothing is logged.
func quiet() {
	quietOnce.Do(func() {
		level := -8 // AV_LOG_QUIET
		if v, ok := os.LookupEnv("OPENCV_FFMPEG_LOGLEVEL"); ok {
			if n, err := strconv.Atoi(v); err == nil {
				level = n
			}
		} else {
			os.Setenv("OPENCV_FFMPEG_LOGLEVEL", "-8") // and OpenCV, where it still decodes (live)
		}
		C.vt_set_log_level(C.int(level))
	})
}

// OpenDecoder opens path's first video stream, with one decoder thread a
// core, as OpenCV does.
func OpenDecoder(path string) (*Decoder, error) {
	quiet()
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var d *C.vt_decoder
	var w, h C.int
	var log *C.char
	rc := C.vt_decoder_open(cpath, C.int(runtime.NumCPU()), &d, &w, &h, &log)
	if err := encoderError(rc, log); err != nil {
		return nil, err
	}
	return &Decoder{d: d, W: int(w), H: int(h)}, nil
}

// ErrFrameSize is Next's error for a frame whose size is not the stream's.
var ErrFrameSize = errors.New("frame size changed")

// Next decodes the next frame and makes it the current one, which BGR,
// Grey and Hold read, until the next call. It returns the frame's time in
// milliseconds (OpenCV's CAP_PROP_POS_MSEC: 0 when the frame has none)
// and false after the last frame (or where the decoder gives up on damaged
// input, as OpenCV does).
func (d *Decoder) Next() (msec float64, ok bool, err error) {
	var ms C.double
	var w, h C.int
	switch rc := C.vt_decoder_next(d.d, &ms, &w, &h); {
	case rc == 1:
		return float64(ms), true, nil
	case rc == 0:
		return 0, false, nil
	case rc == 2:
		return float64(ms), false, fmt.Errorf("%w: %dx%d, the stream's is %dx%d", ErrFrameSize, int(w), int(h), d.W, d.H)
	default:
		return 0, false, avError(rc)
	}
}

// BGR converts the current frame into dst: H rows of step bytes (at least
// 3*W), BGR, byte for byte as OpenCV's FFmpeg backend would.
func (d *Decoder) BGR(dst []byte, step int) error { return d.bgr(nil, dst, step) }

func (d *Decoder) bgr(p *C.struct_AVFrame, dst []byte, step int) error {
	if step < 3*d.W || len(dst) < step*(d.H-1)+3*d.W {
		return fmt.Errorf("decoder: a %d-byte buffer of step %d cannot hold a %dx%d frame", len(dst), step, d.W, d.H)
	}
	d.mu.Lock() // one converter: the decoder's goroutine and a held picture's may both use it
	defer d.mu.Unlock()
	if d.d == nil {
		return errors.New("decoder: closed")
	}
	if rc := C.vt_decoder_bgr(d.d, p, (*C.uint8_t)(unsafe.Pointer(&dst[0])), C.int(step)); rc < 0 {
		return avError(rc)
	}
	return nil
}

// Grey writes the current frame's luma into dst (H rows of step bytes, at
// least W) as the grey OpenCV's BGR-to-grey gives of the BGR frame, give or
// take rounding: for grey, converting to BGR first is wasted. It returns
// false, with dst untouched, for a frame without an 8-bit luma plane
// (10-bit, RGB): grey the BGR frame then.
func (d *Decoder) Grey(dst []byte, step int) (bool, error) {
	if step < d.W || len(dst) < step*(d.H-1)+d.W {
		return false, fmt.Errorf("decoder: a %d-byte buffer of step %d cannot hold a %dx%d grey frame", len(dst), step, d.W, d.H)
	}
	return C.vt_decoder_grey(d.d, (*C.uint8_t)(unsafe.Pointer(&dst[0])), C.int(step)) != 0, nil
}

// Picture is a decoded frame kept for a later conversion to BGR, after the
// decoder has moved on (Hold). Free it once, converted or not.
type Picture struct {
	d *Decoder
	p *C.struct_AVFrame
}

// Hold keeps the current frame (a reference to libavcodec's buffer, not a
// copy).
func (d *Decoder) Hold() (*Picture, error) {
	p := C.vt_decoder_hold(d.d)
	if p == nil {
		return nil, errors.New("decoder: out of memory")
	}
	held.Add(1)
	return &Picture{d: d, p: p}, nil
}

var held atomic.Int64

// HeldPictures is how many pictures Hold made that are not yet freed (for
// leak tests, as gocv's MatProfile is for Mats).
func HeldPictures() int64 { return held.Load() }

// BGR converts the picture into dst as Decoder.BGR does.
func (p *Picture) BGR(dst []byte, step int) error { return p.d.bgr(p.p, dst, step) }

// Free gives the picture's buffer back to the decoder; a second call does
// nothing.
func (p *Picture) Free() {
	if p.p != nil {
		C.vt_picture_free(p.p)
		p.p = nil
		held.Add(-1)
	}
}

// Close frees the decoder.
func (d *Decoder) Close() {
	C.vt_decoder_free(d.d)
	d.d = nil
}
