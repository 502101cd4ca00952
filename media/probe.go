package media

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// Info is what ffprobe says about a video file.
type Info struct {
	Path       string
	Format     string // ffprobe format_name, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
	Width      int
	Height     int
	FrameRate  Rational // average frame rate of the video stream
	Frames     int      // frame count the container claims (0 if it does not say)
	VideoCodec string
	PixFmt     string
	VideoStart float64 // seconds; the first frame's time on the file's clock
	AudioCodec string  // "" when there is no audio stream
	AudioStart float64
	Duration   float64 // seconds, of the whole file
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

func parseRational(s string) Rational {
	num, den, ok := strings.Cut(s, "/")
	if !ok {
		den = "1"
	}
	n, err1 := strconv.Atoi(num)
	d, err2 := strconv.Atoi(den)
	if err1 != nil || err2 != nil || n <= 0 || d <= 0 {
		return Rational{}
	}
	return Rational{n, d}
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

// Probe asks ffprobe what path holds and rejects anything that is not a
// decodable video. Errors name the file and say what is wrong.
func Probe(ctx context.Context, path string) (*Info, error) {
	if err := CheckReadable(path); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-of", "json",
		"-show_entries", "format=format_name,duration:stream=index,codec_type,codec_name,pix_fmt,width,height,avg_frame_rate,r_frame_rate,nb_frames,start_time",
		"--", path)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return nil, fmt.Errorf("ffprobe not found: install ffmpeg (scripts/setup.sh)")
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%s: %w (%s)", path, ErrNotVideo, lastLine(stderr.String(), path))
	}
	var out struct {
		Format struct {
			FormatName string `json:"format_name"`
			Duration   string `json:"duration"`
		} `json:"format"`
		Streams []struct {
			CodecType    string `json:"codec_type"`
			CodecName    string `json:"codec_name"`
			PixFmt       string `json:"pix_fmt"`
			Width        int    `json:"width"`
			Height       int    `json:"height"`
			AvgFrameRate string `json:"avg_frame_rate"`
			RFrameRate   string `json:"r_frame_rate"`
			NbFrames     string `json:"nb_frames"`
			StartTime    string `json:"start_time"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return nil, fmt.Errorf("%s: %w (ffprobe output unreadable: %v)", path, ErrNotVideo, err)
	}
	if len(out.Streams) == 0 {
		msg := lastLine(stderr.String(), path)
		if msg == "" {
			msg = "no streams"
		}
		return nil, fmt.Errorf("%s: %w (%s)", path, ErrNotVideo, msg)
	}
	info := &Info{Path: path, Format: out.Format.FormatName, Duration: parseFloat(out.Format.Duration)}
	if isStillFormat(info.Format) {
		return nil, fmt.Errorf("%s: %w (%s)", path, ErrStillImage, strings.TrimSuffix(info.Format, "_pipe"))
	}
	for _, s := range out.Streams {
		switch {
		case s.CodecType == "video" && info.VideoCodec == "" && s.Width > 0:
			info.VideoCodec, info.PixFmt = s.CodecName, s.PixFmt
			info.Width, info.Height = s.Width, s.Height
			info.FrameRate = parseRational(s.AvgFrameRate)
			if info.FrameRate.Num == 0 {
				info.FrameRate = parseRational(s.RFrameRate)
			}
			info.Frames, _ = strconv.Atoi(s.NbFrames)
			info.VideoStart = parseFloat(s.StartTime)
		case s.CodecType == "audio" && info.AudioCodec == "":
			info.AudioCodec = s.CodecName
			info.AudioStart = parseFloat(s.StartTime)
		}
	}
	if info.VideoCodec == "" {
		return nil, fmt.Errorf("%s: %w", path, ErrNoVideo)
	}
	if info.Frames == 0 && info.FrameRate.Num > 0 && info.Duration > 0 {
		// Some containers (Matroska, WebM) do not count frames; estimate.
		info.Frames = int(math.Round(info.Duration * info.FrameRate.Float()))
	}
	return info, nil
}

func parseFloat(s string) float64 {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

// CheckReadable is the cheap part of Probe: path is a file that exists, is
// not empty and can be opened.
func CheckReadable(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("%s: %w", path, UnwrapPathError(err))
	}
	if st.IsDir() {
		return fmt.Errorf("%s: is a folder, not a video file", path)
	}
	if st.Size() == 0 {
		return fmt.Errorf("%s: %w", path, ErrEmpty)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("%s: %w", path, UnwrapPathError(err))
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

// UnwrapPathError drops the op and path from an *os.PathError, for callers
// that name the file themselves.
func UnwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// CountFrames decodes the first video stream and counts its frames (slow:
// it decodes everything; for checks, not for the hot path).
func CountFrames(ctx context.Context, path string) (int, error) {
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
		"-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", "--", path).Output()
	if err != nil {
		return 0, fmt.Errorf("%s: count frames: %w", path, err)
	}
	return strconv.Atoi(strings.TrimSpace(string(out)))
}
