package media

import (
	"encoding/binary"
	"io"
	"time"
)

// mkvPipe writes raw video frames as a minimal Matroska stream (one
// V_UNCOMPRESSED track, one cluster per frame), so that ffmpeg receives
// every frame with its own timestamp: a variable-frame-rate input keeps its
// timing, which ffmpeg's rawvideo input (one fixed rate) cannot carry. No Go
// library writes Matroska's ColourSpace element, which ffmpeg needs to know
// the pixel format of uncompressed video; the subset used here is small.
type mkvPipe struct {
	w    io.Writer
	last int64 // timestamp of the last frame, µs; -1 before the first
	hdr  []byte
}

// Matroska element ids.
const (
	mkvEBML               = 0x1A45DFA3
	mkvEBMLVersion        = 0x4286
	mkvEBMLReadVersion    = 0x42F7
	mkvEBMLMaxIDLength    = 0x42F2
	mkvEBMLMaxSizeLength  = 0x42F3
	mkvDocType            = 0x4282
	mkvDocTypeVersion     = 0x4287
	mkvDocTypeReadVersion = 0x4285
	mkvSegment            = 0x18538067
	mkvInfo               = 0x1549A966
	mkvTimestampScale     = 0x2AD7B1
	mkvMuxingApp          = 0x4D80
	mkvWritingApp         = 0x5741
	mkvTracks             = 0x1654AE6B
	mkvTrackEntry         = 0xAE
	mkvTrackNumber        = 0xD7
	mkvTrackUID           = 0x73C5
	mkvTrackType          = 0x83
	mkvCodecID            = 0x86
	mkvDefaultDuration    = 0x23E383
	mkvVideo              = 0xE0
	mkvPixelWidth         = 0xB0
	mkvPixelHeight        = 0xBA
	mkvColourSpace        = 0x2EB524
	mkvCluster            = 0x1F43B675
	mkvTimestamp          = 0xE7
	mkvSimpleBlock        = 0xA3
)

// newMKVPipe writes the stream header for w x h frames; fourcc names the
// pixel format as ffmpeg's raw tags do ("BGR\x18" for bgr24, "I420").
// frame is the nominal frame duration: the last frame's, which no next
// frame's timestamp gives (a one-frame clip would otherwise last 0 s).
func newMKVPipe(w io.Writer, width, height int, fourcc string, frame time.Duration) (*mkvPipe, error) {
	ebml := cat(
		elUint(mkvEBMLVersion, 1), elUint(mkvEBMLReadVersion, 1), elUint(mkvEBMLMaxIDLength, 4),
		elUint(mkvEBMLMaxSizeLength, 8), el(mkvDocType, []byte("matroska")),
		elUint(mkvDocTypeVersion, 4), elUint(mkvDocTypeReadVersion, 2))
	info := cat(elUint(mkvTimestampScale, 1000), // timestamps in µs
		el(mkvMuxingApp, []byte("vidtag")), el(mkvWritingApp, []byte("vidtag")))
	track := cat(elUint(mkvTrackNumber, 1), elUint(mkvTrackUID, 1), elUint(mkvTrackType, 1),
		el(mkvCodecID, []byte("V_UNCOMPRESSED")), elUint(mkvDefaultDuration, uint64(max(frame, time.Microsecond).Nanoseconds())),
		el(mkvVideo, cat(elUint(mkvPixelWidth, uint64(width)), elUint(mkvPixelHeight, uint64(height)),
			el(mkvColourSpace, []byte(fourcc)))))
	head := cat(el(mkvEBML, ebml), id(mkvSegment), []byte{0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, // unknown size: a stream
		el(mkvInfo, info), el(mkvTracks, el(mkvTrackEntry, track)))
	if _, err := w.Write(head); err != nil {
		return nil, err
	}
	return &mkvPipe{w: w, last: -1}, nil
}

// WriteFrame writes one frame at pts (from the start of the stream). A pts
// that does not move forward is moved to 1 µs after the previous frame:
// the muxer needs strictly increasing times.
func (p *mkvPipe) WriteFrame(pix []byte, pts time.Duration) error {
	ts := pts.Microseconds()
	if ts <= p.last {
		ts = p.last + 1
	}
	p.last = ts
	// SimpleBlock: track 1 (vint 0x81), relative time 0, flags keyframe.
	block := []byte{0x81, 0, 0, 0x80}
	blockHead := cat(id(mkvSimpleBlock), size(uint64(len(block)+len(pix))), block)
	body := elUint(mkvTimestamp, uint64(ts))
	clusterSize := uint64(len(body) + len(blockHead) + len(pix))
	p.hdr = append(append(append(append(p.hdr[:0], id(mkvCluster)...), size(clusterSize)...), body...), blockHead...)
	if _, err := p.w.Write(p.hdr); err != nil {
		return err
	}
	_, err := p.w.Write(pix)
	return err
}

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// id is an element id as written (ids carry their own length marker).
func id(v uint32) []byte {
	switch {
	case v >= 1<<24:
		return []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
	case v >= 1<<16:
		return []byte{byte(v >> 16), byte(v >> 8), byte(v)}
	case v >= 1<<8:
		return []byte{byte(v >> 8), byte(v)}
	}
	return []byte{byte(v)}
}

// size is an element size as an 8-byte vint (always valid, never the
// reserved all-ones value for sizes below 2^56-1).
func size(n uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, n)
	b[0] = 0x01
	return b
}

func el(v uint32, data []byte) []byte { return cat(id(v), size(uint64(len(data))), data) }

func elUint(v uint32, n uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, n)
	i := 0
	for i < 7 && b[i] == 0 {
		i++
	}
	return el(v, b[i:])
}
