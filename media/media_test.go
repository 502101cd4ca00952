package media

import (
	"context"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vidtag/vidtag/internal/testenv"
)

func TestProbeSharedFiles(t *testing.T) {
	tests := []struct {
		file    string
		wantErr error // nil: a video
		frames  int
		w, h    int
		audio   bool
	}{
		{"clips/short_hamilton_clip.mp4", nil, 275, 640, 360, true},
		{"clips/obama_biden_720p.mp4", nil, 426, 1280, 720, true},
		{"clips/obama_1080p.mp4", nil, 150, 1920, 1080, true},
		{"bad/empty.mp4", ErrEmpty, 0, 0, 0, false},
		{"bad/not_a_video.mp4", ErrNotVideo, 0, 0, 0, false},
		{"bad/png_renamed.mp4", ErrStillImage, 0, 0, 0, false},
		// The truncated file probes as a whole video: its header claims all
		// 426 frames. The decoder finds out; the reader compares the counts.
		{"bad/truncated_40pct.mp4", nil, 426, 1280, 720, true},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := testenv.Data(t, tt.file)
			info, err := Probe(context.Background(), path)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Probe() err = %v, want %v", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), path) {
					t.Errorf("error %q does not name the file", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if info.Frames != tt.frames || info.Width != tt.w || info.Height != tt.h || info.HasAudio() != tt.audio {
				t.Errorf("got %d frames %dx%d audio=%v", info.Frames, info.Width, info.Height, info.HasAudio())
			}
		})
	}
}

func TestProbeMissingAndFolder(t *testing.T) {
	dir := t.TempDir()
	for _, path := range []string{filepath.Join(dir, "nope.mp4"), dir} {
		if _, err := Probe(context.Background(), path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("Probe(%s) = %v, want an error naming it", path, err)
		}
	}
}

func TestWriterEncodesEveryFrame(t *testing.T) {
	tests := []struct {
		name      string
		w, h, n   int
		rate      Rational
		start     float64
		withAudio bool
	}{
		{"no audio", 64, 48, 25, Rational{25, 1}, 0, false},
		{"NTSC rate with the Hamilton clip's audio and offset", 320, 180, 40, Rational{2997, 100}, 0.852019, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt := WriterOptions{Path: filepath.Join(t.TempDir(), "out.mp4"), Width: tt.w, Height: tt.h, FrameRate: tt.rate, Start: tt.start, Preset: "ultrafast"}
			if tt.withAudio {
				opt.AudioFrom, opt.AudioCodec = testenv.Data(t, "clips/short_hamilton_clip.mp4"), "aac"
			}
			w := openWriter(t, opt)
			frame := make([]byte, tt.w*tt.h*3)
			for i := 0; i < tt.n; i++ {
				for j := range frame {
					frame[j] = byte(i * 5)
				}
				if err := w.WriteFrame(frame); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Commit(); err != nil {
				t.Fatal(err)
			}
			got, err := Probe(context.Background(), opt.Path)
			if err != nil {
				t.Fatal(err)
			}
			frames, err := CountFrames(context.Background(), opt.Path)
			if err != nil {
				t.Fatal(err)
			}
			if got.VideoCodec != "h264" || got.PixFmt != "yuv420p" || frames != tt.n || math.Abs(got.FrameRate.Float()/tt.rate.Float()-1) > 1e-3 {
				t.Errorf("video %s %s, %d frames at %v; want h264 yuv420p, %d frames at %v", got.VideoCodec, got.PixFmt, frames, got.FrameRate, tt.n, tt.rate)
			}
			if got.HasAudio() != tt.withAudio {
				t.Errorf("audio stream present=%v, want %v", got.HasAudio(), tt.withAudio)
			} else if tt.withAudio && (got.VideoStart-got.AudioStart < 0.8 || got.VideoStart-got.AudioStart > 0.9) {
				t.Errorf("video starts %.3fs after audio, want the input's 0.844s", got.VideoStart-got.AudioStart)
			}
			if entries, _ := os.ReadDir(filepath.Dir(opt.Path)); len(entries) != 1 {
				t.Errorf("folder holds %d files, want only the output", len(entries))
			}
		})
	}
}

// A variable frame rate survives: every frame keeps its time, a pause
// included, and odd sizes are padded to even ones.
func TestWriterKeepsTimestamps(t *testing.T) {
	tests := []struct {
		name         string
		w, h         int
		timescale    int
		pts          []time.Duration
		wantW, wantH int
	}{
		{"VFR with a 1 s pause", 64, 48, 15360, ms(0, 33, 67, 100, 1100, 1133, 1200, 1300), 64, 48},
		{"NTSC times on a 1/30000 clock", 32, 32, 30000, ntsc(10), 32, 32},
		{"odd size is padded", 65, 37, 0, ms(0, 40, 80, 120), 66, 38},
		{"a coarse input clock (1/25) is left to the muxer", 64, 48, 25, ms(0, 33, 67, 100, 1100), 64, 48},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt := WriterOptions{Path: filepath.Join(t.TempDir(), "out.mp4"), Width: tt.w, Height: tt.h,
				FrameRate: Rational{30, 1}, Preset: "ultrafast", TimeScale: tt.timescale}
			w := openWriter(t, opt)
			frame := make([]byte, tt.w*tt.h*3)
			for i, pts := range tt.pts {
				for j := range frame {
					frame[j] = byte(i * 20)
				}
				if err := w.WriteFrameAt(frame, pts); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Commit(); err != nil {
				t.Fatal(err)
			}
			got, err := FrameTimes(context.Background(), opt.Path)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.pts) {
				t.Fatalf("%d frames, want %d", len(got), len(tt.pts))
			}
			for i := range got {
				if d := got[i] - got[0] - tt.pts[i]; d < -time.Millisecond || d > time.Millisecond {
					t.Errorf("frame %d at %v, want %v", i, got[i]-got[0], tt.pts[i])
				}
			}
			info, err := Probe(context.Background(), opt.Path)
			if err != nil {
				t.Fatal(err)
			}
			if info.Width != tt.wantW || info.Height != tt.wantH {
				t.Errorf("video is %dx%d, want %dx%d", info.Width, info.Height, tt.wantW, tt.wantH)
			}
		})
	}
}

func ms(v ...int) []time.Duration {
	out := make([]time.Duration, len(v))
	for i, x := range v {
		out[i] = time.Duration(x) * time.Millisecond
	}
	return out
}

func ntsc(n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(float64(i) * 1001 / 30000 * float64(time.Second))
	}
	return out
}

func TestWriterAbortLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	w := openWriter(t, WriterOptions{Path: filepath.Join(dir, "out.mp4"), Width: 32, Height: 32, FrameRate: Rational{30, 1}})
	w.WriteFrame(make([]byte, 32*32*3))
	w.Abort()
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("Abort left %v", entries)
	}
}

func TestCheckWritable(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "old.mp4")
	os.WriteFile(existing, []byte("x"), 0o644)
	ro := filepath.Join(dir, "ro")
	os.Mkdir(ro, 0o555)
	tests := []struct {
		name, path string
		force      bool
		want       string // substring of the error, "" for none
	}{
		{"new file", filepath.Join(dir, "new.mp4"), false, ""},
		{"existing without force", existing, false, "already exists"},
		{"existing with force", existing, true, ""},
		{"missing folder", filepath.Join(dir, "no", "such", "out.mp4"), false, "cannot write here"},
		{"read-only folder", filepath.Join(ro, "out.mp4"), false, "cannot write here"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "read-only folder" && os.Geteuid() == 0 {
				t.Skip("root writes anywhere") // the missing-folder case covers the error path
			}
			err := CheckWritable(tt.path, tt.force)
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("CheckWritable() = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestProbeRotationAndFrameCounts: rotated streams probe at their displayed
// size; only the MP4 sample table counts as an exact frame count, and a
// demux pass finds a cut Matroska file's error.
func TestProbeRotationAndFrameCounts(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join(dir, "src.mp4")
	ffmpeg(t, "-i", testenv.Data(t, "clips", "short_hamilton_clip.mp4"), "-t", "1", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", src)
	ffmpeg(t, "-i", src, "-c", "copy", "-metadata:s:v:0", "rotate=90", filepath.Join(dir, "rot.mp4"))
	ffmpeg(t, "-i", src, "-c", "copy", "-metadata:s:v:0", "rotate=180", filepath.Join(dir, "rot180.mp4"))
	ffmpeg(t, "-i", src, "-c:v", "mpeg4", "-c:a", "libmp3lame", filepath.Join(dir, "clip.avi"))
	ffmpeg(t, "-i", src, "-f", "lavfi", "-i", "sine=duration=3", "-map", "0:v", "-map", "1:a", "-c:v", "copy", "-c:a", "aac", filepath.Join(dir, "long.mkv"))
	b, err := os.ReadFile(filepath.Join(dir, "long.mkv"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "cut.mkv"), b[:len(b)/2], 0o644)
	tests := []struct {
		file         string
		w, h         int
		rotated      bool
		exact        bool
		packetsError bool
	}{
		{"src.mp4", 640, 360, false, true, false},
		{"rot.mp4", 360, 640, true, true, false},
		{"rot180.mp4", 640, 360, true, true, false},
		{"clip.avi", 640, 360, false, false, false},
		{"long.mkv", 640, 360, false, false, false},
		{"cut.mkv", 640, 360, false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join(dir, tt.file)
			info, err := Probe(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			if info.Width != tt.w || info.Height != tt.h || (info.Rotation != 0) != tt.rotated || info.FramesExact != tt.exact {
				t.Errorf("%dx%d rotation %d exact %v; want %dx%d rotated %v exact %v",
					info.Width, info.Height, info.Rotation, info.FramesExact, tt.w, tt.h, tt.rotated, tt.exact)
			}
			pc, err := CountPackets(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			frames, err := CountFrames(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			if (pc.Error != "") != tt.packetsError || !tt.packetsError && pc.Packets != frames {
				t.Errorf("packets %d (error %q), frames %d", pc.Packets, pc.Error, frames)
			}
		})
	}
}

func ffmpeg(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ffmpeg", append([]string{"-v", "error", "-y"}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
	}
}

// The people step probes the MP4 annotate just wrote and checked: it gets
// the writer's own check back (no second ffprobe), and a file changed
// since (another run's, or touched) is probed afresh.
func TestProbeStreamsRemembersWhatTheWriterChecked(t *testing.T) {
	opt := WriterOptions{Path: filepath.Join(t.TempDir(), "out.mp4"), Width: 64, Height: 48, FrameRate: Rational{25, 1}, Preset: "ultrafast",
		AudioFrom: testenv.Data(t, "clips/short_hamilton_clip.mp4"), AudioCodec: "aac"}
	w := openWriter(t, opt)
	frame := make([]byte, 64*48*3)
	for i := 0; i < 10; i++ {
		if err := w.WriteFrame(frame); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := ProbeStreams(ctx, opt.Path)
	if err != nil {
		t.Fatal(err)
	}
	if s != w.streams {
		t.Error("the writer's check of these bytes was not reused")
	}
	if v, frames := s.Count("video"); v != 1 || frames != 10 {
		t.Errorf("video streams %d with %d frames, want 1 with 10", v, frames)
	}
	if a, _ := s.Count("audio"); a != 1 {
		t.Errorf("%d audio streams, want 1", a)
	}

	// A changed file: its identity (mtime) differs, so it is probed again.
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(opt.Path, later, later); err != nil {
		t.Fatal(err)
	}
	again, err := ProbeStreams(ctx, opt.Path)
	if err != nil {
		t.Fatal(err)
	}
	if again == s {
		t.Error("a file changed since its check was not probed again")
	}
	if v, frames := again.Count("video"); v != 1 || frames != 10 {
		t.Errorf("re-probe: video streams %d with %d frames, want 1 with 10", v, frames)
	}
}
