package media

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/google/renameio/v2"
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
	// I420 means frames arrive as planar YUV 4:2:0 (BT.601, limited range,
	// as OpenCV's BGR2YUV_I420 writes them) instead of packed BGR; it needs
	// an even width and height.
	I420 bool
}

// ErrExists means the output is already there and Force is off.
var ErrExists = errors.New("already exists (use --force to overwrite)")

// Writer encodes raw BGR frames with ffmpeg: H.264, yuv420p, +faststart.
// WriteFrame is not safe for concurrent use.
type Writer struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	pending *renameio.PendingFile
	stderr  *tailBuffer
	path    string
	frame   int // bytes per frame
	frames  int
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
	p, err := renameio.NewPendingFile(path, renameio.WithTempDir(filepath.Dir(path)))
	if err != nil {
		return fmt.Errorf("%s: cannot write here: %w", path, UnwrapPathError(err))
	}
	return p.Cleanup()
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
	pending, err := renameio.NewPendingFile(o.Path, renameio.WithTempDir(filepath.Dir(o.Path)), renameio.WithPermissions(0o644))
	if err != nil {
		return nil, fmt.Errorf("%s: cannot write here: %w", o.Path, UnwrapPathError(err))
	}
	pixFmt, frameBytes := "bgr24", o.Width*o.Height*3
	if o.I420 {
		if o.Width%2 != 0 || o.Height%2 != 0 {
			return nil, fmt.Errorf("%s: I420 input needs an even size, got %dx%d", o.Path, o.Width, o.Height)
		}
		pixFmt, frameBytes = "yuv420p", o.Width*o.Height*3/2
	}
	args := []string{"-hide_banner", "-loglevel", "error", "-y",
		"-f", "rawvideo", "-pix_fmt", pixFmt, "-video_size", fmt.Sprintf("%dx%d", o.Width, o.Height),
		"-framerate", o.FrameRate.String()}
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
	args = append(args, "-fps_mode", "passthrough", "-c:v", "libx264", "-preset", o.Preset, "-crf", strconv.Itoa(o.CRF),
		"-pix_fmt", "yuv420p", "-movflags", "+faststart", "-f", "mp4", pending.Name())
	cmd := exec.Command("ffmpeg", args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		pending.Cleanup()
		return nil, err
	}
	tail := &tailBuffer{max: 4096}
	cmd.Stderr = tail
	if err := cmd.Start(); err != nil {
		pending.Cleanup()
		if errors.Is(err, exec.ErrNotFound) {
			return nil, errors.New("ffmpeg not found: install it (scripts/setup.sh)")
		}
		return nil, fmt.Errorf("start ffmpeg: %w", err)
	}
	return &Writer{cmd: cmd, stdin: stdin, pending: pending, stderr: tail, path: o.Path, frame: frameBytes}, nil
}

// WriteFrame writes one frame: width*height*3 bytes of packed BGR, or
// width*height*3/2 of planar I420.
func (w *Writer) WriteFrame(bgr []byte) error {
	if len(bgr) != w.frame {
		return fmt.Errorf("%s: frame has %d bytes, want %d", w.path, len(bgr), w.frame)
	}
	if _, err := w.stdin.Write(bgr); err != nil {
		return fmt.Errorf("%s: encoder failed: %s", w.path, w.reason(w.wait()))
	}
	w.frames++
	return nil
}

// Frames is the number of frames written so far.
func (w *Writer) Frames() int { return w.frames }

// Finish waits for the encoder to complete the file, which stays under
// its temporary name; Commit then renames it into place. It lets a caller
// put other outputs in place between the two.
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
	return nil
}

// Commit finishes the file (see Finish) and renames it into place.
func (w *Writer) Commit() error {
	if err := w.Finish(); err != nil {
		return err
	}
	w.done = true
	if err := w.pending.CloseAtomicallyReplace(); err != nil {
		w.pending.Cleanup()
		return fmt.Errorf("%s: %w", w.path, err)
	}
	return nil
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
	w.once.Do(func() { w.waitErr = w.cmd.Wait() })
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
