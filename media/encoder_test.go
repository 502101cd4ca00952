package media

import (
	"bytes"
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/vidtag/vidtag/internal/testenv"
)

// openWriter is NewWriter for a test, which stops on an error.
func openWriter(t *testing.T, o WriterOptions) *Writer {
	t.Helper()
	w, err := NewWriter(o)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// solidI420 is a w x h frame of one colour, planar YUV 4:2:0 (BT.601,
// limited range, as OpenCV's BGR2YUV_I420 writes it).
func solidI420(w, h int, b, g, r float64) []byte {
	y := 16 + 0.257*r + 0.504*g + 0.098*b
	u := 128 - 0.148*r - 0.291*g + 0.439*b
	v := 128 + 0.439*r - 0.368*g - 0.071*b
	f := make([]byte, w*h*3/2)
	for i := range f {
		switch {
		case i < w*h:
			f[i] = byte(math.Round(y))
		case i < w*h*5/4:
			f[i] = byte(math.Round(u))
		default:
			f[i] = byte(math.Round(v))
		}
	}
	return f
}

func solidBGR(w, h int, b, g, r byte) []byte {
	f := make([]byte, w*h*3)
	for i := 0; i < len(f); i += 3 {
		f[i], f[i+1], f[i+2] = b, g, r
	}
	return f
}

// videoStream is the H.264 stream of an MP4, as ffmpeg copies it out
// (Annex B), without x264's SEI of its options (which name the input's
// time base and threads, not what the stream holds).
func videoStream(t *testing.T, path string) []byte {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-v", "error", "-i", path, "-map", "0:v:0", "-c", "copy",
		"-bsf:v", "filter_units=remove_types=6", "-f", "h264", "-").Output()
	if err != nil {
		t.Fatalf("ffmpeg copies the stream out of %s: %v", path, err)
	}
	return out
}

// The stream the in-process encoder makes is the one ffmpeg's CLI makes of
// the same frames with the same settings, bit for bit: it is the same
// libx264 through the same libavcodec, set up the same way.
func TestEncoderMakesFFmpegsStream(t *testing.T) {
	const w, h, n = 96, 64, 40
	dir := t.TempDir()
	var raw bytes.Buffer
	for i := 0; i < n; i++ {
		raw.Write(solidI420(w, h, float64(i*6), 128, float64(255-i*6)))
	}
	rawPath := filepath.Join(dir, "in.yuv")
	if err := os.WriteFile(rawPath, raw.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	theirs := filepath.Join(dir, "theirs.mp4")
	testenv.FFmpeg(t, "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", strconv.Itoa(w)+"x"+strconv.Itoa(h), "-r", "25", "-i", rawPath,
		"-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-threads", "1", "-pix_fmt", "yuv420p", "-movflags", "+faststart", theirs)

	opt := WriterOptions{Path: filepath.Join(dir, "ours.mp4"), Width: w, Height: h, FrameRate: Rational{25, 1},
		Preset: "veryfast", CRF: 23, Threads: 1, I420: true}
	wr := openWriter(t, opt)
	frame := w * h * 3 / 2
	for i := 0; i < n; i++ {
		if err := wr.WriteFrame(raw.Bytes()[i*frame : (i+1)*frame]); err != nil {
			t.Fatal(err)
		}
	}
	if err := wr.Commit(); err != nil {
		t.Fatal(err)
	}
	ours, want := videoStream(t, opt.Path), videoStream(t, theirs)
	if !bytes.Equal(ours, want) {
		t.Errorf("the H.264 stream differs from ffmpeg's: %d bytes, ffmpeg's %d", len(ours), len(want))
	}
}

// decodeBGR is the first frame of path as packed BGR, and its size.
func decodeBGR(t *testing.T, path string) ([]byte, int, int) {
	t.Helper()
	info, err := Probe(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ffmpeg", "-v", "error", "-i", path, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "bgr24", "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	return out, info.Width, info.Height
}

// Colours come through the conversion: BGR and I420 frames decode to the
// colour written, and an odd size's extra column and row are black.
func TestEncoderKeepsColours(t *testing.T) {
	const b, g, r = 40, 90, 200
	tests := []struct {
		name string
		w, h int
		i420 bool
	}{
		{"BGR", 64, 48, false},
		{"BGR, odd size padded", 63, 47, false},
		{"I420", 64, 48, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt := WriterOptions{Path: filepath.Join(t.TempDir(), "out.mp4"), Width: tt.w, Height: tt.h,
				FrameRate: Rational{25, 1}, Preset: "ultrafast", I420: tt.i420}
			wr := openWriter(t, opt)
			frame := solidBGR(tt.w, tt.h, b, g, r)
			if tt.i420 {
				frame = solidI420(tt.w, tt.h, b, g, r)
			}
			for i := 0; i < 5; i++ {
				if err := wr.WriteFrame(frame); err != nil {
					t.Fatal(err)
				}
			}
			if err := wr.Commit(); err != nil {
				t.Fatal(err)
			}
			pix, W, H := decodeBGR(t, opt.Path)
			if W != tt.w+tt.w%2 || H != tt.h+tt.h%2 {
				t.Fatalf("video is %dx%d, want %dx%d", W, H, tt.w+tt.w%2, tt.h+tt.h%2)
			}
			at := func(x, y int) []byte { return pix[(y*W+x)*3 : (y*W+x)*3+3] }
			// The centre (away from the chroma of the padding): the colour written.
			if c := at(tt.w/2, tt.h/2); !near(c, []byte{b, g, r}, 6) {
				t.Errorf("centre pixel BGR %v, want about %v", c, []byte{b, g, r})
			}
			// The padding shares its chroma with the last column, so only
			// its brightness can be black.
			luma := func(c []byte) float64 { return 0.114*float64(c[0]) + 0.587*float64(c[1]) + 0.299*float64(c[2]) }
			if tt.w%2 == 1 {
				if c := at(W-1, tt.h/2); luma(c) > 30 {
					t.Errorf("padding column BGR %v (luma %.0f), want black (the colour's is %.0f)", c, luma(c), luma([]byte{b, g, r}))
				}
			}
			if tt.h%2 == 1 {
				if c := at(tt.w/2, H-1); luma(c) > 30 {
					t.Errorf("padding row BGR %v (luma %.0f), want black", c, luma(c))
				}
			}
		})
	}
}

func near(got, want []byte, tol int) bool {
	for i := range got {
		if d := int(got[i]) - int(want[i]); d < -tol || d > tol {
			return false
		}
	}
	return true
}

// audioOf is what ffprobe says of path's first audio stream.
func audioOf(t *testing.T, path string) (codec string, rate, channels int, dur float64) {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries", "stream=codec_name,sample_rate,channels,duration",
		"-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	f := strings.Split(strings.TrimSpace(string(out)), ",")
	if len(f) != 4 {
		t.Fatalf("ffprobe %s: no audio stream (%q)", path, out)
	}
	rate, _ = strconv.Atoi(f[1])
	channels, _ = strconv.Atoi(f[2])
	dur, _ = strconv.ParseFloat(f[3], 64)
	return f[0], rate, channels, dur
}

// Audio browsers play in MP4 (AAC, MP3) is copied; other audio is
// re-encoded to AAC at its own rate and layout where AAC has them, and
// lasts as long as it did.
func TestEncoderAudio(t *testing.T) {
	dir := t.TempDir()
	src := testenv.Data(t, "clips", "short_hamilton_clip.mp4")
	tests := []struct {
		name, file, codec string
		args              []string
		wantCodec         string
		wantRate, wantCh  int
	}{
		{"AAC copied", "aac.mp4", "aac", []string{"-c:a", "copy"}, "aac", 44100, 2},
		{"Opus to AAC", "opus.webm", "opus", []string{"-c:a", "libopus"}, "aac", 48000, 2},
		{"PCM mono at 22.05 kHz to AAC", "pcm.mkv", "pcm_s16le", []string{"-c:a", "pcm_s16le", "-ac", "1", "-ar", "22050"}, "aac", 22050, 1},
		{"FLAC at 50 kHz to AAC at the nearest rate", "flac.mkv", "flac", []string{"-c:a", "flac", "-ar", "50000"}, "aac", 48000, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := filepath.Join(dir, tt.file)
			testenv.FFmpeg(t, append(append([]string{"-i", src, "-t", "2", "-map", "0:a:0"}, tt.args...), in)...)
			_, _, _, inDur := audioOf(t, in)
			if inDur == 0 { // Matroska keeps no stream duration: the file's
				out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", in).Output()
				if err != nil {
					t.Fatal(err)
				}
				inDur, _ = strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
			}
			opt := WriterOptions{Path: filepath.Join(dir, tt.file+".out.mp4"), Width: 32, Height: 32, FrameRate: Rational{25, 1},
				Preset: "ultrafast", AudioFrom: in, AudioCodec: tt.codec}
			wr := openWriter(t, opt)
			frame := solidBGR(32, 32, 0, 0, 0)
			for i := 0; i < 50; i++ {
				if err := wr.WriteFrame(frame); err != nil {
					t.Fatal(err)
				}
			}
			if err := wr.Commit(); err != nil {
				t.Fatal(err)
			}
			codec, rate, ch, dur := audioOf(t, opt.Path)
			if codec != tt.wantCodec || rate != tt.wantRate || ch != tt.wantCh {
				t.Errorf("audio %s %d Hz %d channels, want %s %d Hz %d", codec, rate, ch, tt.wantCodec, tt.wantRate, tt.wantCh)
			}
			if math.Abs(dur-inDur) > 0.05 {
				t.Errorf("audio lasts %.3f s, the input's %.3f s", dur, inDur)
			}
		})
	}
}
