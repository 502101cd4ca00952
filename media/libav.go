package media

// #cgo pkg-config: libavformat libavcodec libavutil
// #include <stdlib.h>
// #include "libav.h"
import "C"

import (
	"errors"
	"fmt"
	"strings"
	"unsafe"
)

// Files are read with libavformat in this process: the library ffprobe is
// a front end to, already loaded for OpenCV's decoder. An ffprobe process
// costs 0.15-0.2 s of loading its 216 shared libraries before it reads a
// byte, and a run probed three times (the input, the MP4 it wrote, the MP4
// with subtitles); the same calls in process take a few milliseconds.
// The fields are the ones ffprobe prints, taken the way it takes them.

// Streams is what libavformat says a file holds: what checking an MP4
// needs (each stream's kind, frame count and duration as the container
// states them, the "comment" tag) and what Probe reads of an input.
type Streams struct {
	Format   string // demuxer name, "mov,mp4,m4a,3gp,3g2,mj2"
	Duration float64
	Comment  string // the "comment" tag
	Streams  []Stream
	// Log holds what libav logged at error level while reading the
	// header and probing the streams: a missing moov atom, a cut mdat.
	Log string
}

// Stream is one stream of Streams.
type Stream struct {
	CodecType, CodecName, PixFmt string
	Width, Height                int
	AvgFrameRate, RFrameRate     Rational
	TimeBase                     Rational
	NbFrames                     int     // 0: the container does not say
	StartTime, Duration          float64 // seconds
	RotateTag                    string
	Rotation                     *float64 // display matrix, degrees counter-clockwise
}

// maxStreams is the most streams a probe describes (a file may hold more).
const maxStreams = 64

// probeFile reads path's header and probes its streams, as ffprobe does.
// The error is libav's own message ("Invalid data found when processing
// input").
func probeFile(path string) (*Streams, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var f C.vt_file
	streams := make([]C.vt_stream, maxStreams)
	rc := C.vt_probe(cpath, &f, &streams[0], maxStreams)
	log := takeLog(&f)
	if rc < 0 {
		return &Streams{Log: log}, avError(rc)
	}
	p := &Streams{Format: C.GoString(&f.format[0]), Comment: C.GoString(&f.comment[0]), Log: log}
	if f.has_duration != 0 {
		p.Duration = float64(f.duration)
	}
	for i := 0; i < min(int(f.nstreams), maxStreams); i++ {
		s := &streams[i]
		ps := Stream{
			CodecType: C.GoString(&s.codec_type[0]), CodecName: C.GoString(&s.codec_name[0]), PixFmt: C.GoString(&s.pix_fmt[0]),
			Width: int(s.width), Height: int(s.height),
			AvgFrameRate: rational(int(s.avg_num), int(s.avg_den)), RFrameRate: rational(int(s.r_num), int(s.r_den)),
			TimeBase: rational(int(s.tb_num), int(s.tb_den)), NbFrames: int(s.nb_frames),
			RotateTag: C.GoString(&s.rotate_tag[0]),
		}
		if s.has_start != 0 {
			ps.StartTime = float64(s.start_time)
		}
		if s.has_duration != 0 {
			ps.Duration = float64(s.duration)
		}
		if s.has_rotation != 0 {
			r := float64(s.rotation)
			ps.Rotation = &r
		}
		p.Streams = append(p.Streams, ps)
	}
	return p, nil
}

// readPackets reads path's first video stream without decoding: how many
// packets it holds and what libav logged at error level on the way.
func readPackets(path string) (n int, log string, err error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var f C.vt_file
	var packets C.int64_t
	rc := C.vt_count_packets(cpath, &f, &packets)
	log = takeLog(&f)
	if rc < 0 {
		return 0, log, avError(rc)
	}
	return int(packets), log, nil
}

// packetTimes are the times, in seconds on the file's clock, of path's
// first video stream's packets, in file order.
func packetTimes(path string) ([]float64, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var f C.vt_file
	var t *C.double
	var n C.int64_t
	rc := C.vt_packet_times(cpath, &f, &t, &n)
	takeLog(&f)
	defer C.free(unsafe.Pointer(t))
	if rc < 0 {
		return nil, avError(rc)
	}
	out := make([]float64, int(n))
	if n > 0 {
		copy(out, unsafe.Slice((*float64)(unsafe.Pointer(t)), int(n)))
	}
	return out, nil
}

func takeLog(f *C.vt_file) string {
	if f.log == nil {
		return ""
	}
	defer C.free(unsafe.Pointer(f.log))
	return strings.TrimSpace(C.GoString(f.log))
}

func avError(rc C.int) error {
	buf := make([]C.char, 256)
	C.vt_error(rc, &buf[0], C.int(len(buf)))
	return errors.New(C.GoString(&buf[0]))
}

// rational is num/den, or the zero Rational when either is not positive
// (ffprobe's "0/0").
func rational(num, den int) Rational {
	if num <= 0 || den <= 0 {
		return Rational{}
	}
	return Rational{num, den}
}

// firstError is the first line of an error log, without the "[demuxer @
// 0x...]" prefix libav puts before it.
func firstError(log string) string {
	l, _, _ := strings.Cut(log, "\n")
	l = strings.TrimSpace(l)
	if i := strings.Index(l, "] "); strings.HasPrefix(l, "[") && i > 0 {
		l = l[i+2:]
	}
	return l
}

// RemuxMP4 writes the MP4 out from the MP4 in, in this process with
// libavformat: in's video and audio streams copied, a mov_text subtitle
// stream made from the WebVTT file vtt ("" for none) whose handler is
// named handler, the "comment" tag set to comment, and the index in front
// for streaming. It is ffmpeg -c copy -c:s mov_text -movflags +faststart,
// without ffmpeg's start-up. Check out before trusting it.
func RemuxMP4(in, vtt, out, comment, handler string) error {
	cin, cout := C.CString(in), C.CString(out)
	ccomment, chandler := C.CString(comment), C.CString(handler)
	var cvtt *C.char
	if vtt != "" {
		cvtt = C.CString(vtt)
	}
	defer func() {
		for _, p := range []*C.char{cin, cout, ccomment, chandler, cvtt} {
			C.free(unsafe.Pointer(p))
		}
	}()
	var f C.vt_file
	rc := C.vt_remux_mp4(cin, cvtt, cout, ccomment, chandler, &f)
	log := takeLog(&f)
	if rc < 0 {
		if msg := firstError(log); msg != "" {
			return fmt.Errorf("%v (%s)", avError(rc), msg)
		}
		return avError(rc)
	}
	return nil
}
