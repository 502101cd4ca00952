package media

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vidtag/vidtag/internal/outfile"
)

// Info is what a video file holds, as ffprobe would say it.
type Info struct {
	Path   string
	Format string // ffprobe format_name, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
	// Width and Height are the displayed size: a stream with rotation
	// side data (a phone held upright) is stored rotated, and OpenCV and
	// players turn it upright.
	Width  int
	Height int
	// Rotation is the clockwise turn, 0, 90, 180 or 270 degrees, that
	// displays the stored pixels upright.
	Rotation  int
	FrameRate Rational // average frame rate of the video stream
	// EvenRate says the stream's base rate (r_frame_rate) is its average
	// rate: its frames are evenly spaced (constant frame rate). Phones and
	// screen recorders that write variable rate differ there.
	EvenRate bool
	// Frames is the expected frame count (0 if unknown): exact when
	// FramesExact, otherwise only good for a progress bar.
	Frames int
	// FramesExact says Frames is the container's own count of the frames
	// it stores (an MP4/MOV sample table), not an estimate from the
	// duration or a header that also counts skipped frames (AVI).
	FramesExact bool
	TimeBase    Rational // of the video stream, e.g. 1/15360
	VideoCodec  string
	PixFmt      string
	VideoStart  float64 // seconds; the first frame's time on the file's clock
	AudioCodec  string  // "" when there is no audio stream
	AudioStart  float64
	Duration    float64 // seconds, of the whole file
}

// HasAudio reports whether the file has an audio stream.
func (i *Info) HasAudio() bool { return i.AudioCodec != "" }

// Rational is a frame rate as ffmpeg writes it, e.g. 30000/1001.
type Rational struct{ Num, Den int }

func (r Rational) String() string { return fmt.Sprintf("%d/%d", r.Num, r.Den) }

// Float is the rate in frames per second (0 when unknown).
func (r Rational) Float() float64 {
	if r.Den == 0 {
		return 0
	}
	return float64(r.Num) / float64(r.Den)
}

// Input problems. The error text from Probe names the file and wraps one of these.
var (
	ErrEmpty      = errors.New("empty file (0 bytes)")
	ErrNotVideo   = errors.New("not a video")
	ErrStillImage = errors.New("a still image, not a video")
	ErrNoVideo    = errors.New("no video stream")
)

// stillFormats are demuxers that read single images; OpenCV would decode
// one frame from them and call it a video.
func isStillFormat(format string) bool {
	return strings.HasSuffix(format, "_pipe") || format == "image2" || format == "tiff" || format == "webp"
}

// Probe reads what path holds (with libavformat, as ffprobe would: see
// probeFile) and rejects anything that is not a decodable video. Errors
// name the file and say what is wrong.
func Probe(ctx context.Context, path string) (*Info, error) {
	if err := CheckReadable(path); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out, err := probeFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (%s)", path, ErrNotVideo, err)
	}
	if len(out.Streams) == 0 {
		msg := firstError(out.Log)
		if msg == "" {
			msg = "no streams"
		}
		return nil, fmt.Errorf("%s: %w (%s)", path, ErrNotVideo, msg)
	}
	info := &Info{Path: path, Format: out.Format, Duration: out.Duration}
	if isStillFormat(info.Format) {
		return nil, fmt.Errorf("%s: %w (%s)", path, ErrStillImage, strings.TrimSuffix(info.Format, "_pipe"))
	}
	for _, s := range out.Streams {
		switch {
		case s.CodecType == "video" && info.VideoCodec == "" && s.Width > 0:
			info.VideoCodec, info.PixFmt = s.CodecName, s.PixFmt
			info.Width, info.Height = s.Width, s.Height
			info.FrameRate = s.AvgFrameRate
			base := s.RFrameRate
			if info.FrameRate.Num == 0 {
				info.FrameRate = base
			}
			info.EvenRate = base.Num > 0 && base.Num*info.FrameRate.Den == info.FrameRate.Num*base.Den
			info.Frames = s.NbFrames
			info.VideoStart = s.StartTime
			info.TimeBase = s.TimeBase
			rot, _ := strconv.Atoi(s.RotateTag)
			if s.Rotation != nil {
				// The display matrix's angle is counter-clockwise;
				// the old "rotate" tag is clockwise.
				rot = -int(math.Round(*s.Rotation))
			}
			info.Rotation = ((rot % 360) + 360) % 360
			if info.Rotation == 90 || info.Rotation == 270 {
				info.Width, info.Height = info.Height, info.Width
			}
		case s.CodecType == "audio" && info.AudioCodec == "":
			info.AudioCodec = s.CodecName
			info.AudioStart = s.StartTime
		}
	}
	if info.VideoCodec == "" {
		return nil, fmt.Errorf("%s: %w", path, ErrNoVideo)
	}
	// Only the MP4 family's sample table counts exactly the frames stored.
	// AVI's header also counts the empty chunks that stand for skipped
	// frames; Matroska and WebM do not count at all.
	info.FramesExact = info.Frames > 0 && isMOV(info.Format)
	if info.Frames == 0 && info.FrameRate.Num > 0 && info.Duration > 0 {
		// An estimate for progress only: the duration may be the audio's.
		info.Frames = int(math.Round(info.Duration * info.FrameRate.Float()))
	}
	return info, nil
}

func isMOV(format string) bool {
	for _, f := range strings.Split(format, ",") {
		if f == "mov" || f == "mp4" {
			return true
		}
	}
	return false
}

// CheckReadable is the cheap part of Probe: path is a file that exists, is
// not empty and can be opened.
func CheckReadable(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("%s: %w", path, outfile.UnwrapPathError(err))
	}
	if st.IsDir() {
		return fmt.Errorf("%s: is a folder, not a video file", path)
	}
	if st.Size() == 0 {
		return fmt.Errorf("%s: %w", path, ErrEmpty)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("%s: %w", path, outfile.UnwrapPathError(err))
	}
	return f.Close()
}

// lastLine is the last line ffmpeg printed, without the file name it repeats.
func lastLine(s, path string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	l := strings.TrimSpace(lines[len(lines)-1])
	l = strings.TrimPrefix(l, path+": ")
	if i := strings.Index(l, "] "); strings.HasPrefix(l, "[") && i > 0 {
		l = l[i+2:]
	}
	return l
}

// CountFrames decodes the first video stream and counts its frames (slow:
// it decodes everything; for checks, not for the hot path).
func CountFrames(ctx context.Context, path string) (int, error) {
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
		"-show_entries", "stream=nb_read_frames", "-of", "default=nw=1:nk=1", "--", path).Output()
	if err != nil {
		return 0, fmt.Errorf("%s: count frames: %w", path, err)
	}
	// The first line: rotated streams add their side data after it.
	first, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	n, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		return 0, fmt.Errorf("%s: count frames: ffprobe says %q", path, first)
	}
	return n, nil
}

// PacketCount is what a demux-only pass over a file's first video stream
// found: the packets it stores and the first error the demuxer or the
// parser reported ("" for a clean read to the end).
type PacketCount struct {
	Packets int
	Error   string
}

// CountPackets reads (without decoding) the first video stream of path to
// its end. It takes a fraction of a decode's time: the evidence behind
// calling a file without an exact frame count truncated. Only messages at
// ffmpeg's error level count ("File ended prematurely", "partial file"...);
// warnings about odd timestamps do not.
func CountPackets(ctx context.Context, path string) (PacketCount, error) {
	if err := ctx.Err(); err != nil {
		return PacketCount{}, err
	}
	n, log, err := readPackets(path)
	if err != nil {
		return PacketCount{}, fmt.Errorf("%s: count packets: %v", path, err)
	}
	return PacketCount{Packets: n, Error: firstError(log)}, nil
}

// FrameTimes lists the presentation time of every video frame of path, in
// presentation order, on the file's clock (demux only: no decoding).
func FrameTimes(ctx context.Context, path string) ([]time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	secs, err := packetTimes(path)
	if err != nil {
		return nil, fmt.Errorf("%s: frame times: %w", path, err)
	}
	ts := make([]time.Duration, len(secs))
	for i, v := range secs {
		ts[i] = time.Duration(math.Round(v*1e6)) * time.Microsecond
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
	return ts, nil
}
