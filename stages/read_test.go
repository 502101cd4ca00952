package stages

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/vidtag/vidtag/media"
)

// ffmpeg runs ffmpeg quietly and fails t if it fails.
func ffmpeg(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command("ffmpeg", append([]string{"-hide_banner", "-nostdin", "-v", "error", "-y"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// readAll opens path as annotate does (Probe, then OpenReader) and decodes
// every frame, handing each to look before releasing it.
func readAll(t *testing.T, path string, look func(f *Frame)) (*media.Info, *Reader, []time.Duration) {
	t.Helper()
	ctx := context.Background()
	info, err := media.Probe(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := OpenReader(info, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	var pts []time.Duration
	for {
		f, err := r.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if f.Seq != len(pts) {
			t.Fatalf("frame %d has Seq %d", len(pts), f.Seq)
		}
		pts = append(pts, f.PTS)
		if look != nil {
			look(f)
		}
		f.Release()
	}
	if r.Frames() != len(pts) {
		t.Errorf("Frames() %d, decoded %d", r.Frames(), len(pts))
	}
	return info, r, pts
}

// TestReaderTimestamps: every frame comes out, in order, with its
// presentation time from the file (to the millisecond OpenCV reports),
// constant or variable frame rate; a whole file checks complete.
func TestReaderTimestamps(t *testing.T) {
	noMatsLeft(t)
	const ms = time.Millisecond
	tests := []struct {
		name string
		args []string // ffmpeg output options after the testsrc2 input
		want func(i int) time.Duration
		n    int
		even bool // frames evenly spaced: the last ones' times need no pass over the file
	}{
		{"25 fps", []string{"-frames:v", "50"}, func(i int) time.Duration { return time.Duration(i) * 40 * ms }, 50, true},
		{"30000/1001 fps", []string{"-r", "30000/1001", "-frames:v", "45"},
			func(i int) time.Duration { return time.Duration(i) * time.Second * 1001 / 30000 }, 45, true},
		// 20 frames at 25 fps, then 12.5 fps (times x264 can store in its
		// 1/25 s time base): the pts the file stores are kept.
		{"two rates", []string{"-vf", "settb=1/1000,setpts='if(lt(N,20),N*40,800+(N-20)*80)'", "-fps_mode", "vfr", "-frames:v", "40"},
			func(i int) time.Duration {
				if i < 20 {
					return time.Duration(i) * 40 * ms
				}
				return 800*ms + time.Duration(i-20)*80*ms
			}, 40, false},
		// a one-second pause after frame 20, as a screen recorder makes
		{"pause", []string{"-vf", "settb=1/1000,setpts='N*40+if(gte(N,20),1000,0)'", "-fps_mode", "vfr", "-frames:v", "40"},
			func(i int) time.Duration {
				if i < 20 {
					return time.Duration(i) * 40 * ms
				}
				return time.Second + time.Duration(i)*40*ms
			}, 40, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "clip.mp4")
			ffmpeg(t, append(append([]string{"-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25"}, tt.args...),
				"-c:v", "libx264", "-preset", "ultrafast", "-bf", "2", path)...)
			_, r, pts := readAll(t, path, nil)
			if len(pts) != tt.n {
				t.Fatalf("%d frames, want %d", len(pts), tt.n)
			}
			if r.info.EvenRate != tt.even {
				t.Errorf("EvenRate %v, want %v", r.info.EvenRate, tt.even)
			}
			for i, p := range pts {
				if d := p - tt.want(i); d < -ms || d > ms {
					t.Errorf("frame %d: pts %v, want %v", i, p, tt.want(i))
				}
			}
			c, err := r.Check(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if c.Truncated || c.Expected != tt.n || c.Source != "container" {
				t.Errorf("Check: %+v, want complete against the container's %d", c, tt.n)
			}
		})
	}
}

// TestReaderGeometry: frames come out as a player shows them: a stream
// stored turned, with a display rotation, comes out upright (width and
// height swapped for 90 and 270); odd sizes keep every pixel.
func TestReaderGeometry(t *testing.T) {
	noMatsLeft(t)
	dir := t.TempDir()
	// The upright picture: 64x48, white in its top-left 16x16 corner only.
	upright := filepath.Join(dir, "upright.mkv")
	ffmpeg(t, "-f", "lavfi", "-i", "color=black:size=64x48:rate=10", "-vf", "drawbox=x=0:y=0:w=16:h=16:color=white:t=fill",
		"-frames:v", "5", "-c:v", "libx264rgb", "-qp", "0", upright)
	tests := []struct {
		name   string
		cw     int    // display rotation
		undo   string // the filter that stores the upright picture turned against cw
		w, h   int    // the frames' size
		corner bool   // check the white corner is top-left
	}{
		{"no rotation", 0, "null", 64, 48, true},
		{"rotation 90", 90, "transpose=cclock", 64, 48, true},
		{"rotation 180", 180, "hflip,vflip", 64, 48, true},
		{"rotation 270", 270, "transpose=clock", 64, 48, true},
		{"odd size", 0, "scale=161:121", 161, 121, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stored := filepath.Join(t.TempDir(), "stored.mp4")
			ffmpeg(t, "-i", upright, "-vf", tt.undo, "-c:v", "libx264rgb", "-qp", "0", stored)
			path := stored
			if tt.cw != 0 {
				path = tagRotation(t, stored, tt.cw)
			}
			n := 0
			info, _, _ := readAll(t, path, func(f *Frame) {
				n++
				if f.Mat.Cols() != tt.w || f.Mat.Rows() != tt.h {
					t.Fatalf("frame %d is %dx%d, want %dx%d", f.Seq, f.Mat.Cols(), f.Mat.Rows(), tt.w, tt.h)
				}
				if !tt.corner {
					return
				}
				if tl, br := regionMean(f.Mat, 2, 2, 12, 12), regionMean(f.Mat, tt.w-14, tt.h-14, 12, 12); tl < 200 || br > 50 {
					t.Fatalf("frame %d not upright: top-left mean %.0f, bottom-right %.0f", f.Seq, tl, br)
				}
			})
			if info.Rotation != tt.cw || info.Width != tt.w || info.Height != tt.h {
				t.Errorf("probe: rotation %d, %dx%d", info.Rotation, info.Width, info.Height)
			}
			if n != 5 {
				t.Errorf("%d frames, want 5", n)
			}
		})
	}
}

// tagRotation copies stored with a display rotation of cw degrees
// clockwise. ffmpeg versions disagree on the sign of the rotate tag, so
// the one ffprobe reads back as cw is kept.
func tagRotation(t *testing.T, stored string, cw int) string {
	t.Helper()
	for _, tag := range []int{cw, 360 - cw} {
		out := filepath.Join(t.TempDir(), fmt.Sprintf("rot%d.mp4", tag))
		ffmpeg(t, "-i", stored, "-c", "copy", "-metadata:s:v:0", fmt.Sprintf("rotate=%d", tag), out)
		info, err := media.Probe(context.Background(), out)
		if err != nil {
			t.Fatal(err)
		}
		if info.Rotation == cw {
			return out
		}
	}
	t.Fatalf("cannot make ffmpeg tag a %d degree display rotation", cw)
	return ""
}

// regionMean is the mean of all channels over a w x h region at x, y.
func regionMean(m gocv.Mat, x, y, w, h int) float64 {
	sum := 0.0
	for r := y; r < y+h; r++ {
		for c := x; c < x+w; c++ {
			v := m.GetVecbAt(r, c)
			sum += float64(v[0]) + float64(v[1]) + float64(v[2])
		}
	}
	return sum / float64(3*w*h)
}

// TestReaderBadInput: a file cut short decodes what it holds and Check
// says it is incomplete, from the container's frame count (MP4 with its
// index first) or the demuxer's error (Matroska), while the whole file
// checks complete; a text file or a PNG named .mp4 is refused before
// OpenCV sees it.
func TestReaderBadInput(t *testing.T) {
	noMatsLeft(t)
	dir := t.TempDir()
	for _, tt := range []struct {
		name, ext  string
		flags      []string
		wantSource string
	}{
		{"MP4 cut short", "mp4", []string{"-movflags", "+faststart"}, "container"},
		{"Matroska cut short", "mkv", nil, "packets"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			whole := filepath.Join(dir, "whole."+tt.ext)
			ffmpeg(t, append(append([]string{"-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25", "-frames:v", "100",
				"-c:v", "libx264", "-preset", "ultrafast", "-g", "10"}, tt.flags...), whole)...)
			// Whole, it checks complete by the same evidence.
			_, r, pts := readAll(t, whole, nil)
			if c, err := r.Check(context.Background()); err != nil || c.Truncated || c.Source != tt.wantSource || c.Expected != 100 || len(pts) != 100 {
				t.Fatalf("whole file: %d frames, Check %+v %v; want 100, complete by %q", len(pts), c, err, tt.wantSource)
			}
			b, err := os.ReadFile(whole)
			if err != nil {
				t.Fatal(err)
			}
			cut := filepath.Join(dir, "cut."+tt.ext)
			if err := os.WriteFile(cut, b[:len(b)/2], 0o644); err != nil {
				t.Fatal(err)
			}
			_, r, pts = readAll(t, cut, nil)
			if len(pts) == 0 || len(pts) >= 100 {
				t.Fatalf("%d frames decoded from half a 100-frame file", len(pts))
			}
			c, err := r.Check(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if !c.Truncated || c.Source != tt.wantSource || c.Reason == "" {
				t.Errorf("Check: %+v, want truncated by %q", c, tt.wantSource)
			}
		})
	}
	t.Run("text named .mp4", func(t *testing.T) {
		fake := filepath.Join(dir, "notes.mp4")
		if err := os.WriteFile(fake, []byte("not a video\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := media.Probe(context.Background(), fake); !errors.Is(err, media.ErrNotVideo) || !strings.Contains(err.Error(), fake) {
			t.Errorf("Probe: %v, want %v naming the file", err, media.ErrNotVideo)
		}
	})
	t.Run("PNG named .mp4", func(t *testing.T) {
		png := filepath.Join(dir, "still.png")
		ffmpeg(t, "-f", "lavfi", "-i", "testsrc2=size=64x48", "-frames:v", "1", png)
		fake := filepath.Join(dir, "still.mp4")
		if err := os.Rename(png, fake); err != nil {
			t.Fatal(err)
		}
		if _, err := media.Probe(context.Background(), fake); !errors.Is(err, media.ErrStillImage) || !strings.Contains(err.Error(), fake) {
			t.Errorf("Probe: %v, want %v naming the file", err, media.ErrStillImage)
		}
	})
}

// TestReaderMaxFrames: with maxFrames, Next hands out at most that many
// frames at once and waits (here: until its context ends) for one to come
// back; a released frame lets it go on.
func TestReaderMaxFrames(t *testing.T) {
	noMatsLeft(t)
	path := filepath.Join(t.TempDir(), "clip.mp4")
	ffmpeg(t, "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25", "-frames:v", "10", "-c:v", "libx264", "-preset", "ultrafast", path)
	info, err := media.Probe(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := OpenReader(info, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	a, err := r.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if f, err := r.Next(short); !errors.Is(err, context.DeadlineExceeded) {
		if f != nil {
			f.Release()
		}
		t.Fatalf("a third frame out of 2 allowed: %v", err)
	}
	a.Release()
	c, err := r.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.Seq != 2 {
		t.Errorf("after a refused Next, the next frame is %d, want 2 (none skipped)", c.Seq)
	}
	b.Release()
	c.Release()
	n := 3
	for {
		f, err := r.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		f.Release()
		n++
	}
	if n != 10 {
		t.Errorf("%d frames, want 10", n)
	}
}

// TestReaderMatchesOpenCV: the reader's frames are cv::VideoCapture's, byte
// for byte and at the same times, on the inputs a phone or a screen
// recorder makes (odd sizes, 4:4:4, 10 bits, VP9 with a pause, MJPEG): both
// the path that converts straight into the frame's Mat (4:2:0 at a width
// of 32 px multiples) and the one through OpenCV's own buffer. Rotation is
// left out: OpenCV's turns differ on purpose (TestReaderGeometry). Only
// the last rows of a 10-bit frame differ, by a few levels (6 seen).
func TestReaderMatchesOpenCV(t *testing.T) {
	noMatsLeft(t)
	dir := t.TempDir()
	src := []string{"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-frames:v", "45"}
	for _, tt := range []struct {
		name, file string
		args       []string
		// edgeRows: the last rows may differ by a little, where OpenCV
		// converts with swscale set up for the coded size (368 rows) and
		// the reader for the frame's.
		edgeRows int
	}{
		{"H.264 4:2:0, in place", "a.mp4", []string{"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-bf", "2"}, 0},
		{"H.264 1080p (coded 1088 rows), in place", "hd.mp4", []string{"-vf", "scale=1920:1080", "-c:v", "libx264", "-preset", "ultrafast"}, 0},
		{"odd size", "odd.mp4", []string{"-vf", "scale=641:361", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p"}, 0},
		{"4:2:0 at a width that is no multiple of 32", "w.mp4", []string{"-vf", "scale=720:404", "-c:v", "libx264", "-preset", "ultrafast"}, 0},
		{"screen recorder 4:4:4", "screen.mov", []string{"-vf", "scale=1366:768", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p"}, 0},
		{"10-bit", "ten.mp4", []string{"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p10le"}, 4},
		{"VP9 with a pause (variable rate)", "vfr.webm", []string{"-vf", "setpts='if(gt(N,20),PTS+15,PTS)'", "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8"}, 0},
		{"MJPEG in AVI", "mj.avi", []string{"-c:v", "mjpeg", "-q:v", "5"}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.file)
			ffmpeg(t, append(append(append([]string{}, src...), tt.args...), path)...)
			vc, err := gocv.VideoCaptureFileWithAPI(path, gocv.VideoCaptureFFmpeg)
			if err != nil {
				t.Fatal(err)
			}
			defer vc.Close()
			vc.Set(gocv.VideoCaptureProperties(49), 0) // CAP_PROP_ORIENTATION_AUTO off, as the reader's frames come
			want := gocv.NewMat()
			defer want.Close()
			n := 0
			readAll(t, path, func(f *Frame) {
				if !vc.Read(&want) || want.Empty() {
					t.Fatalf("frame %d: OpenCV has no more frames", f.Seq)
				}
				n++
				ms := time.Duration(vc.Get(gocv.VideoCapturePosMsec) * float64(time.Millisecond))
				if f.Mat.Cols() != want.Cols() || f.Mat.Rows() != want.Rows() {
					t.Fatalf("frame %d: %dx%d, OpenCV's %dx%d", f.Seq, f.Mat.Cols(), f.Mat.Rows(), want.Cols(), want.Rows())
				}
				if top, bottom := frameDiff(f.Mat, want, tt.edgeRows); top != 0 || bottom > 16 {
					t.Fatalf("frame %d differs from OpenCV's: by up to %v above the last %d rows, %v in them", f.Seq, top, tt.edgeRows, bottom)
				}
				if f.Seq > 0 && ms > 0 && f.PTS != ms {
					t.Errorf("frame %d at %v, OpenCV says %v", f.Seq, f.PTS, ms)
				}
			})
			if vc.Read(&want) && !want.Empty() {
				t.Errorf("OpenCV decodes more than the reader's %d frames", n)
			}
			if n != 45 {
				t.Errorf("%d frames, want 45", n)
			}
		})
	}
}

// frameDiff is the largest difference of a channel between a and b (same
// size) above their last edge rows, and in those rows.
func frameDiff(a, b gocv.Mat, edge int) (top, bottom float64) {
	d := gocv.NewMat()
	defer d.Close()
	gocv.AbsDiff(a, b, &d)
	flat := d.Reshape(1, d.Rows())
	defer flat.Close()
	h := flat.Rows()
	for i, r := range []image.Rectangle{image.Rect(0, 0, flat.Cols(), h-edge), image.Rect(0, h-edge, flat.Cols(), h)} {
		if r.Empty() {
			continue
		}
		part := flat.Region(r)
		_, mx, _, _ := gocv.MinMaxLoc(part)
		part.Close()
		if i == 0 {
			top = float64(mx)
		} else {
			bottom = float64(mx)
		}
	}
	return top, bottom
}
