package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vidtag/vidtag/internal/outfile"
	"golang.org/x/sys/unix"
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
	// TimeScale, when set, is the video track's clock rate in ticks per
	// second: the input's time base, so that its timestamps carry over
	// tick for tick.
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

// Writer encodes raw BGR frames with ffmpeg: H.264, yuv420p, +faststart.
// WriteFrame is not safe for concurrent use.
type Writer struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	mkv     *mkvPipe
	pending *outfile.Pending
	stderr  *tailBuffer
	path    string
	frame   int // bytes per frame
	frames  int
	lastPTS time.Duration // of the last frame written
	streams *Streams      // what the check found in the finished file
	rate    Rational
	done    bool
	ended   bool // Finish has run
	waitErr error
	once    sync.Once
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

// NewWriter starts ffmpeg writing to a temporary file beside o.Path.
func NewWriter(o WriterOptions) (*Writer, error) {
	if err := CheckWritable(o.Path, o.Force); err != nil {
		return nil, err
	}
	if o.Width <= 0 || o.Height <= 0 || o.FrameRate.Num <= 0 {
		return nil, fmt.Errorf("%s: bad video geometry %dx%d @ %v", o.Path, o.Width, o.Height, o.FrameRate)
	}
	if o.Preset == "" {
		o.Preset = "veryfast"
	}
	if o.CRF == 0 {
		o.CRF = 20
	}
	pending, err := outfile.Create(o.Path, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s: cannot write here: %w", o.Path, outfile.UnwrapPathError(err))
	}
	// Frames reach ffmpeg in a Matroska stream, each with its timestamp
	// (see mkvPipe), so a variable frame rate survives.
	fourcc, frameBytes := "BGR\x18", o.Width*o.Height*3
	if o.I420 {
		if o.Width%2 != 0 || o.Height%2 != 0 {
			return nil, fmt.Errorf("%s: I420 input needs an even size, got %dx%d", o.Path, o.Width, o.Height)
		}
		fourcc, frameBytes = "I420", o.Width*o.Height*3/2
	}
	args := []string{"-hide_banner", "-loglevel", "error", "-y", "-f", "matroska"}
	if o.Start != 0 {
		args = append(args, "-itsoffset", strconv.FormatFloat(o.Start, 'f', 6, 64))
	}
	args = append(args, "-i", "pipe:0")
	if o.AudioFrom != "" {
		args = append(args, "-i", o.AudioFrom, "-map", "0:v:0", "-map", "1:a:0")
		switch o.AudioCodec {
		case "aac", "mp3":
			args = append(args, "-c:a", "copy")
		default: // browsers do not play AC-3, PCM, Vorbis... in MP4
			args = append(args, "-c:a", "aac", "-b:a", "160k")
		}
	}
	if o.Threads > 0 {
		args = append(args, "-threads", strconv.Itoa(o.Threads))
	}
	if w, h := EncodedSize(o.Width, o.Height); w != o.Width || h != o.Height {
		args = append(args, "-vf", fmt.Sprintf("pad=%d:%d:0:0:black", w, h))
	}
	// passthrough and the input's time base (µs) for the encoder: the
	// default, 1/frame rate, would round VFR timestamps to the average rate.
	args = append(args, "-fps_mode", "passthrough", "-enc_time_base:v", "-1", "-c:v", "libx264", "-preset", o.Preset, "-crf", strconv.Itoa(o.CRF),
		"-pix_fmt", "yuv420p", "-movflags", "+faststart")
	if o.TimeScale >= 1000 { // coarser clocks round VFR timestamps too much
		args = append(args, "-video_track_timescale", strconv.Itoa(o.TimeScale))
	}
	args = append(args, "-f", "mp4", pending.Name())
	cmd := exec.Command("ffmpeg", args...)
	// Its own process group: a terminal's Ctrl-C (sent to our group) must
	// not kill the encoder under us; we stop it ourselves (Abort), or let
	// it finish the file (Commit). If we die, it reads EOF and exits.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pr, stdin, err := os.Pipe()
	if err != nil {
		pending.Cleanup()
		return nil, err
	}
	// A frame is megabytes and a pipe holds 64 kB: a 1 MB pipe (Linux's
	// default cap for an unprivileged process) moves it in a sixteenth of
	// the writes and wake-ups. Where the kernel says no, 64 kB still works.
	if rc, err := stdin.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) { _, _ = unix.FcntlInt(fd, unix.F_SETPIPE_SZ, 1<<20) })
	}
	cmd.Stdin = pr
	tail := &tailBuffer{max: 4096}
	cmd.Stderr = tail
	err = cmd.Start()
	pr.Close() // the child's end, now ffmpeg's
	if err != nil {
		stdin.Close()
		pending.Cleanup()
		if errors.Is(err, exec.ErrNotFound) {
			return nil, errors.New("ffmpeg not found: install it (scripts/setup.sh)")
		}
		return nil, fmt.Errorf("start ffmpeg: %w", err)
	}
	w := &Writer{cmd: cmd, stdin: stdin, pending: pending, stderr: tail, path: o.Path, frame: frameBytes, rate: o.FrameRate}
	if w.mkv, err = newMKVPipe(stdin, o.Width, o.Height, fourcc, time.Duration(float64(time.Second)/o.FrameRate.Float())); err != nil {
		err = fmt.Errorf("%s: encoder failed: %s", o.Path, w.reason(w.wait()))
		w.Abort()
		return nil, err
	}
	running.Store(cmd, struct{}{})
	return w, nil
}

// running holds the encoders started and not yet finished, for
// KillEncoders.
var running sync.Map // *exec.Cmd -> struct{}

// KillEncoders kills every ffmpeg this process is running (they are in
// their own process groups, so a signal to ours does not reach them): for
// an exit that cannot wait.
func KillEncoders() {
	running.Range(func(k, _ any) bool {
		k.(*exec.Cmd).Process.Kill()
		return true
	})
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
	if err := w.mkv.WriteFrame(pix, pts); err != nil {
		return fmt.Errorf("%s: encoder failed: %s", w.path, w.reason(w.wait()))
	}
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
	w.stdin.Close()
	if err := w.wait(); err != nil {
		w.done = true
		w.pending.Cleanup()
		return fmt.Errorf("%s: encoder failed: %s", w.path, w.reason(err))
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

// Abort stops ffmpeg and removes the temporary file. It is safe to call
// after Commit, where it does nothing.
func (w *Writer) Abort() {
	if w.done {
		return
	}
	w.done = true
	w.cmd.Process.Kill()
	w.stdin.Close()
	w.wait()
	w.pending.Cleanup()
}

func (w *Writer) wait() error {
	w.once.Do(func() {
		w.waitErr = w.cmd.Wait()
		running.Delete(w.cmd)
	})
	return w.waitErr
}

func (w *Writer) reason(err error) string {
	if msg := strings.TrimSpace(w.stderr.String()); msg != "" {
		lines := strings.Split(msg, "\n")
		return lines[len(lines)-1]
	}
	if err != nil {
		return err.Error()
	}
	return "ffmpeg stopped early"
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(p)
	if extra := t.buf.Len() - t.max; extra > 0 {
		t.buf.Next(extra)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}
