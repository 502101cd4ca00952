package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vidtag/vidtag/internal/testenv"
	"github.com/vidtag/vidtag/media"
)

// The corpus: inputs as phones, screen recorders and the web make them,
// generated here with ffmpeg from a real face source (1.5 s of the Hamilton
// clip where Lin-Manuel Miranda faces the camera, top right), never
// committed. Each case is annotated through the CLI and checked with
// ffprobe and the sidecar.
type corpusCase struct {
	name string
	ext  string // of the input file ("" for .mp4)
	// make writes the input from the upright source clip src.
	make func(t *testing.T, src, out string)
	// displayed is the size a player shows (0: the source's 640x360).
	w, h int
	// wantErr, when set, is a substring of the one error line (exit 1).
	wantErr string
	// upright: the faces must land where they do on the source clip.
	upright bool
}

func ff(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command("ffmpeg", append([]string{"-hide_banner", "-v", "error", "-y"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// rotated stores src turned against the display rotation cw (clockwise
// degrees), so that a player, turning it by cw, shows src upright. ffmpeg
// versions disagree on the sign of the "rotate" tag, so the tag is checked
// against what ffprobe then reads from the display matrix.
func rotated(cw int) func(t *testing.T, src, out string) {
	return func(t *testing.T, src, out string) {
		undo := map[int]string{90: "transpose=cclock", 180: "hflip,vflip", 270: "transpose=clock"}[cw]
		stored := strings.TrimSuffix(out, ".mp4") + ".stored.mp4"
		ff(t, "-i", src, "-vf", undo, "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "copy", stored)
		defer os.Remove(stored)
		for _, tag := range []int{cw, 360 - cw} {
			ff(t, "-i", stored, "-c", "copy", "-metadata:s:v:0", fmt.Sprintf("rotate=%d", tag), out)
			info, err := media.Probe(context.Background(), out)
			if err != nil {
				t.Fatal(err)
			}
			if info.Rotation == cw {
				// Independently of vidtag's probe: ffmpeg, as a player,
				// shows the file as the upright source.
				if d := thumbDiff(t, src, out); d > 8 {
					t.Fatalf("ffmpeg shows the rotated file unlike the source (mean difference %.1f)", d)
				}
				return
			}
		}
		t.Fatalf("cannot make ffmpeg tag a %d degree display rotation", cw)
	}
}

// thumbDiff is the mean absolute difference between the first frames of a
// and b as ffmpeg displays them (auto-rotated), on 32x18 grey thumbnails.
func thumbDiff(t *testing.T, a, b string) float64 {
	t.Helper()
	thumb := func(path string) []byte {
		out, err := exec.Command("ffmpeg", "-v", "error", "-i", path, "-frames:v", "1", "-vf", "scale=32:18,format=gray",
			"-f", "rawvideo", "-").Output()
		if err != nil || len(out) != 32*18 {
			t.Fatalf("thumbnail of %s: %v (%d bytes)", path, err, len(out))
		}
		return out
	}
	ta, tb := thumb(a), thumb(b)
	sum := 0.0
	for i := range ta {
		sum += math.Abs(float64(ta[i]) - float64(tb[i]))
	}
	return sum / float64(len(ta))
}

func join(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func corpusCases() []corpusCase {
	enc := []string{"-c:v", "libx264", "-preset", "ultrafast"}
	return []corpusCase{
		{name: "upright H.264 AAC", make: func(t *testing.T, src, out string) { ff(t, "-i", src, "-c", "copy", out) }, upright: true},
		{name: "rotation 90", make: rotated(90), upright: true},
		{name: "rotation 180", make: rotated(180), upright: true},
		{name: "rotation 270", make: rotated(270), upright: true},
		{name: "VFR with a 1 s pause", make: func(t *testing.T, src, out string) {
			// Frames from the 20th on are shown 1 s later: a phone's pause.
			ff(t, join([]string{"-i", src, "-vf", "setpts='if(gte(N,20),PTS+1/TB,PTS)'", "-fps_mode", "vfr", "-af", "apad=pad_dur=1"},
				enc, []string{"-c:a", "aac", "-t", "2.5", out})...)
		}, upright: true},
		{name: "WebM VP9 Opus, audio outlasting the video", make: func(t *testing.T, src, out string) {
			ff(t, "-i", src, "-f", "lavfi", "-i", "sine=frequency=440:duration=3", "-map", "0:v", "-map", "1:a",
				"-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-c:a", "libopus", out)
		}, ext: ".webm", upright: true},
		{name: "MKV H.264 AAC, audio outlasting the video", make: func(t *testing.T, src, out string) {
			ff(t, "-i", src, "-f", "lavfi", "-i", "sine=frequency=440:duration=3", "-map", "0:v", "-map", "1:a",
				"-c:v", "copy", "-c:a", "aac", out)
		}, ext: ".mkv", upright: true},
		{name: "AVI MPEG-4 made by ffmpeg", make: func(t *testing.T, src, out string) {
			ff(t, "-i", src, "-c:v", "mpeg4", "-q:v", "4", "-c:a", "libmp3lame", out)
		}, ext: ".avi", upright: true},
		{name: "HEVC 10-bit", make: func(t *testing.T, src, out string) {
			ff(t, "-i", src, "-c:v", "libx265", "-preset", "ultrafast", "-pix_fmt", "yuv420p10le", "-x265-params", "log-level=error",
				"-tag:v", "hvc1", "-c:a", "copy", out)
		}, upright: true},
		{name: "odd size 641x361", make: func(t *testing.T, src, out string) {
			ff(t, "-i", src, "-vf", "scale=641:361", "-c:v", "libx264rgb", "-preset", "ultrafast", "-c:a", "copy", out)
		}, w: 641, h: 361},
		// x264 stores grey as full-range 4:2:0 with flat chroma (ffprobe:
		// yuvj420p), as grey H.264 from cameras does.
		{name: "grey", make: func(t *testing.T, src, out string) {
			ff(t, join([]string{"-i", src, "-vf", "format=gray"}, enc, []string{"-pix_fmt", "gray", "-c:a", "copy", out})...)
		}, upright: true},
		{name: "one frame", make: func(t *testing.T, src, out string) {
			ff(t, join([]string{"-i", src, "-frames:v", "1"}, enc, []string{"-an", out})...)
		}},
		{name: "no audio", make: func(t *testing.T, src, out string) { ff(t, "-i", src, "-an", "-c", "copy", out) }, upright: true},
		{name: "audio only", make: func(t *testing.T, src, out string) { ff(t, "-i", src, "-vn", "-c:a", "copy", out) },
			ext: ".m4a", wantErr: "no video stream"},
	}
}

// sidecarLine is one frame of the sidecar.
type sidecarLine struct {
	Frame int     `json:"frame"`
	Time  float64 `json:"time"`
	Faces []struct {
		Box [4]int `json:"box"`
	} `json:"faces"`
}

func readSidecar(t *testing.T, path string) []sidecarLine {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []sidecarLine
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l sidecarLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, l)
	}
	return out
}

// faceCentre is the mean centre of every box in the sidecar.
func faceCentre(lines []sidecarLine) (x, y float64, n int) {
	for _, l := range lines {
		for _, f := range l.Faces {
			x += float64(f.Box[0]+f.Box[2]) / 2
			y += float64(f.Box[1]+f.Box[3]) / 2
			n++
		}
	}
	if n > 0 {
		x, y = x/float64(n), y/float64(n)
	}
	return x, y, n
}

func relative(ts []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ts))
	for i := range ts {
		out[i] = ts[i] - ts[0]
	}
	return out
}

// TestCorpus annotates every corpus case and checks exit code, size and
// orientation, frame count, frame times (within one frame of the input's),
// audio, and the sidecar.
func TestCorpus(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join(dir, "source.mp4")
	ff(t, "-ss", "4", "-i", testenv.Data(t, "clips", "short_hamilton_clip.mp4"), "-t", "1.5",
		"-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", src)
	known := testenv.Data(t, "known")
	var refX, refY float64 // where the face is on the upright source
	var refN int
	for i, tc := range corpusCases() {
		t.Run(tc.name, func(t *testing.T) {
			ext := tc.ext
			if ext == "" {
				ext = ".mp4"
			}
			in := filepath.Join(dir, fmt.Sprintf("in%02d%s", i, ext))
			tc.make(t, src, in)
			outDir := t.TempDir()
			out := filepath.Join(outDir, "out.mp4")
			code, _, stderr := runCLI(t, append([]string{"annotate", in, "-o", out, "--known", known,
				"--report", filepath.Join(outDir, "report.json")}, modelArgs(t)...)...)
			if tc.wantErr != "" {
				if n := strings.Count(strings.TrimSpace(stderr), "\n") + 1; code != exitFailure || n != 1 ||
					!strings.Contains(stderr, in) || !strings.Contains(stderr, tc.wantErr) {
					t.Errorf("exit %d with %d lines %q; want exit 1 with one line naming the file and %q", code, n, stderr, tc.wantErr)
				}
				if left := listDir(t, outDir); len(left) != 0 {
					t.Errorf("left behind: %v", left)
				}
				return
			}
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			inInfo, err := media.Probe(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			outInfo, err := media.Probe(ctx, out)
			if err != nil {
				t.Fatal(err)
			}
			// Size: the displayed size, padded to even sides.
			w, h := 640, 360
			if tc.w != 0 {
				w, h = tc.w, tc.h
			}
			if ew, eh := media.EncodedSize(w, h); outInfo.Width != ew || outInfo.Height != eh || outInfo.Rotation != 0 {
				t.Errorf("output %dx%d rotation %d, want %dx%d upright", outInfo.Width, outInfo.Height, outInfo.Rotation, ew, eh)
			}
			// Frame count: every decoded input frame, in the video and the sidecar.
			inFrames, err := media.CountFrames(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			outFrames, err := media.CountFrames(ctx, out)
			if err != nil {
				t.Fatal(err)
			}
			lines := readSidecar(t, filepath.Join(outDir, "out.jsonl"))
			if outFrames != inFrames || len(lines) != inFrames {
				t.Errorf("input %d frames, output %d, sidecar %d", inFrames, outFrames, len(lines))
			}
			// Frame times: within one frame of the input's, in the video
			// and in the sidecar.
			inTimes, err := media.FrameTimes(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			outTimes, err := media.FrameTimes(ctx, out)
			if err != nil {
				t.Fatal(err)
			}
			frame := time.Duration(float64(time.Second) / inInfo.FrameRate.Float())
			inRel, outRel := relative(inTimes), relative(outTimes)
			bad, worst := 0, time.Duration(0)
			for k := 0; k < min(len(inRel), len(outRel), len(lines)); k++ {
				side := time.Duration(lines[k].Time * float64(time.Second))
				worst = max(worst, (outRel[k] - inRel[k]).Abs(), (side - inRel[k]).Abs())
				if (outRel[k]-inRel[k]).Abs() > frame || (side-inRel[k]).Abs() > frame {
					if bad++; bad <= 3 {
						t.Errorf("frame %d: input %v, output %v, sidecar %v", k, inRel[k], outRel[k], side)
					}
				}
			}
			// Audio where the input had it, in sync: the video's offset
			// against the audio is the input's.
			if outInfo.HasAudio() != inInfo.HasAudio() {
				t.Errorf("output audio %v, input audio %v", outInfo.HasAudio(), inInfo.HasAudio())
			} else if inInfo.HasAudio() {
				din, dout := inInfo.VideoStart-inInfo.AudioStart, outInfo.VideoStart-outInfo.AudioStart
				if math.Abs(din-dout) > frame.Seconds() {
					t.Errorf("video starts %.3fs after the audio, the input's %.3fs", dout, din)
				}
			}
			// Sidecar coordinates stay in the source's pixels.
			for _, l := range lines {
				for _, f := range l.Faces {
					if f.Box[0] < 0 || f.Box[1] < 0 || f.Box[2] >= w || f.Box[3] >= h {
						t.Errorf("frame %d: box %v outside the %dx%d source", l.Frame, f.Box, w, h)
					}
				}
			}
			// Orientation: the face lands where it does on the source.
			if tc.upright {
				x, y, n := faceCentre(lines)
				if n < len(lines)/2 {
					t.Fatalf("%d faces in %d frames: the face was not found", n, len(lines))
				}
				if i != 0 && refN == 0 { // the upright case did not run (-run filter): annotate the source
					refDir := t.TempDir()
					if code, _, stderr := runCLI(t, append([]string{"annotate", src, "-o", filepath.Join(refDir, "ref.mp4"),
						"--known", known}, modelArgs(t)...)...); code != 0 {
						t.Fatalf("the source: exit %d: %s", code, stderr)
					}
					refX, refY, refN = faceCentre(readSidecar(t, filepath.Join(refDir, "ref.jsonl")))
				}
				if i == 0 {
					refX, refY, refN = x, y, n
				} else if math.Hypot(x-refX, y-refY) > 20 {
					t.Errorf("faces centred at (%.0f, %.0f), on the upright source at (%.0f, %.0f)", x, y, refX, refY)
				}
			}
			rep := readJSON[struct {
				Truncated bool   `json:"truncated"`
				From      string `json:"frames_expected_from"`
			}](t, filepath.Join(outDir, "report.json"))
			if rep.Truncated || rep.From == "" {
				t.Errorf("report: truncated %v, frame count from %q", rep.Truncated, rep.From)
			}
			x, y, n := faceCentre(lines)
			t.Logf("%s %s rot %d -> %dx%d; frames in %d, out %d, sidecar %d; worst frame time error %v (one frame %v); audio %v -> %v; %d faces centred (%.0f, %.0f); count from %s",
				inInfo.VideoCodec, inInfo.PixFmt, inInfo.Rotation, outInfo.Width, outInfo.Height, inFrames, outFrames, len(lines),
				worst.Round(time.Microsecond), frame.Round(time.Microsecond), inInfo.AudioCodec, outInfo.AudioCodec, n, x, y, rep.From)
		})
	}
}

// TestTruncatedWithoutFrameCount: a Matroska file cut short has no frame
// count to compare with; the demuxer's error is the evidence. The frames
// that decode are kept, the run says so and exits 1.
func TestTruncatedWithoutFrameCount(t *testing.T) {
	dir := t.TempDir()
	whole, cut := filepath.Join(dir, "whole.mkv"), filepath.Join(dir, "cut.mkv")
	ff(t, "-ss", "4", "-i", testenv.Data(t, "clips", "short_hamilton_clip.mp4"), "-t", "1.5",
		"-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", whole)
	b, err := os.ReadFile(whole)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(cut, b[:len(b)*6/10], 0o644)
	out := filepath.Join(dir, "out.mp4")
	code, _, stderr := runCLI(t, append([]string{"annotate", cut, "-o", out, "--known", testenv.Data(t, "known"),
		"--report", filepath.Join(dir, "r.json")}, modelArgs(t)...)...)
	if l := lastLine(stderr); code != exitFailure || !strings.Contains(l, "cut.mkv: truncated: the demuxer stopped with an error") {
		t.Errorf("exit %d, last line %q", code, l)
	}
	rep := readJSON[struct {
		Frames    int    `json:"frames"`
		Truncated bool   `json:"truncated"`
		From      string `json:"frames_expected_from"`
	}](t, filepath.Join(dir, "r.json"))
	if !rep.Truncated || rep.From != "packets" || rep.Frames == 0 {
		t.Errorf("report %+v", rep)
	}
	checkSidecarFrames(t, filepath.Join(dir, "out.jsonl"), rep.Frames)
}

// TestFaultsMidRun: a full disk mid-run (the encoder's writes fail) gives
// one clear line, exit 1, and nothing under a final name.
func TestFaultsMidRun(t *testing.T) {
	testenv.Require(t, os.Geteuid() == 0, "mounting a small tmpfs needs root")
	input := testenv.Data(t, "clips", "obama_1080p.mp4")
	t.Run("full disk", func(t *testing.T) {
		dir := t.TempDir()
		if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", dir).CombinedOutput(); err != nil {
			testenv.Require(t, false, fmt.Sprintf("mount tmpfs: %v %s", err, out))
		}
		defer exec.Command("umount", dir).Run()
		out := filepath.Join(dir, "out.mp4")
		code, _, stderr := runCLI(t, append([]string{"annotate", input, "-o", out, "--known", testenv.Data(t, "known"),
			"--report", filepath.Join(dir, "r.json")}, modelArgs(t)...)...)
		if n := strings.Count(strings.TrimSpace(stderr), "\n") + 1; code != exitFailure || n != 1 || !strings.Contains(stderr, "out.mp4") {
			t.Errorf("exit %d, %d lines: %q; want exit 1 and one line naming the output", code, n, stderr)
		}
		if left := listDir(t, dir); len(left) != 0 {
			t.Errorf("left behind: %v", left)
		}
	})
}
