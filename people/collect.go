package people

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gocv.io/x/gocv"

	"github.com/vidtag/vidtag/gallery"
	"github.com/vidtag/vidtag/internal/outfile"
	"github.com/vidtag/vidtag/stages"
)

// Crop sizes: a crop is the face with half its size around it (enough
// for dlib to find it again when the crop is enrolled), scaled so that
// the face is at least MinCropFace px wide (dlib's HOG misses smaller
// ones) and the crop at most MaxCrop px on its longer side.
const (
	MinCropFace = 160
	MaxCrop     = 480
)

// Collector is a pipeline stage that keeps, for every track, its
// track-level descriptor and its best face crop. Place it after the
// sidecar (the labels are final there) and before drawing (the pixels are
// clean). It is not safe for concurrent use.
type Collector struct {
	tracks map[int]*collected
	frames int
}

type collected struct {
	Track
	desc gallery.Descriptor
	jpeg []byte
}

// NewCollector makes a collector.
func NewCollector() *Collector { return &Collector{tracks: map[int]*collected{}} }

// Process records f's faces.
func (c *Collector) Process(_ context.Context, f *stages.Frame) error {
	c.frames++
	for i := range f.Faces {
		face := &f.Faces[i]
		t := c.tracks[face.Track]
		if t == nil {
			t = &collected{Track: Track{ID: face.Track, First: f.Seq}}
			c.tracks[face.Track] = t
		}
		t.Last = f.Seq
		t.Label = face.Label
		t.Unknown = t.Unknown || !face.Known
		if face.Descriptors > 0 {
			t.desc, t.Descriptors = face.Identity, face.Descriptors
		}
		if !face.Detected || !f.HasPixels() || f.Mat.Empty() {
			continue
		}
		score := float64(face.Score)
		if math.IsNaN(score) {
			score = 1
		}
		q := float64(face.Box.Dx()*face.Box.Dy()) * score
		if f.Describe {
			q *= 2 // a described keyframe: the face is frontal enough for dlib
		}
		if q <= t.Quality {
			continue
		}
		if b, err := crop(f.Mat, face.Box); err == nil {
			t.Quality, t.jpeg = math.Round(q*1000)/1000, b
		}
	}
	return nil
}

// crop cuts the face in box out of m with a margin and encodes it as JPEG.
func crop(m gocv.Mat, box image.Rectangle) ([]byte, error) {
	w, h := box.Dx()+1, box.Dy()+1
	r := image.Rect(box.Min.X-w/2, box.Min.Y-h/2, box.Max.X+1+w/2, box.Max.Y+1+h/2).Intersect(image.Rect(0, 0, m.Cols(), m.Rows()))
	if r.Empty() {
		return nil, fmt.Errorf("empty crop")
	}
	region := m.Region(r)
	defer region.Close()
	scale := math.Max(1, float64(MinCropFace)/float64(w))
	if long := float64(max(r.Dx(), r.Dy())) * scale; long > MaxCrop {
		scale = MaxCrop / float64(max(r.Dx(), r.Dy()))
	}
	src := region
	if scale != 1 {
		scaled := gocv.NewMat()
		defer scaled.Close()
		gocv.Resize(region, &scaled, image.Pt(max(1, int(math.Round(float64(r.Dx())*scale))), max(1, int(math.Round(float64(r.Dy())*scale)))), 0, 0, gocv.InterpolationArea)
		src = scaled
	}
	return encodeJPEG(src, 90)
}

// encodeJPEG encodes a small 8-bit BGR image with Go's JPEG encoder, not
// OpenCV's: a thumbnail is a few kilobytes, and OpenCV's image codecs are
// a module the core does not load unless it must (package cvlibs).
func encodeJPEG(m gocv.Mat, quality int) ([]byte, error) {
	if m.Type() != gocv.MatTypeCV8UC3 {
		return nil, fmt.Errorf("encode JPEG: want 8-bit BGR, got type %v", m.Type())
	}
	if !m.IsContinuous() { // a region of a frame
		m = m.Clone()
		defer m.Close()
	}
	bgr, err := m.DataPtrUint8()
	if err != nil {
		return nil, err
	}
	w, h := m.Cols(), m.Rows()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i, j := 0, 0; i+2 < len(bgr); i, j = i+3, j+4 {
		img.Pix[j], img.Pix[j+1], img.Pix[j+2], img.Pix[j+3] = bgr[i+2], bgr[i+1], bgr[i], 255
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Meta is what the collector cannot know from the frames.
type Meta struct {
	Input, Name, Video, Sidecar, Report string
	// Base is the outputs' stem (out/x for out/x.mp4).
	Base      string
	Cut       float64
	Subtitles bool
	FrameRate float64
}

// FacesDir is the crops' folder for output stem base.
func FacesDir(base string) string { return Sibling(base, ".faces") }

// Write puts the crops into NAME.faces/ and the people file at path, each
// atomically; crops of tracks that are gone (an earlier run's) are
// removed. It returns the files it wrote.
func (c *Collector) Write(path string, m Meta) ([]string, error) {
	dir := filepath.Dir(path)
	if m.Base == "" {
		m.Base = strings.TrimSuffix(path, FileSuffix)
	}
	faces := FacesDir(m.Base)
	f := &File{Version: fileVersion, Input: m.Input, Name: m.Name, Video: rel(dir, m.Video), Sidecar: rel(dir, m.Sidecar), Report: rel(dir, m.Report),
		Stem: rel(dir, m.Base), Faces: rel(dir, faces), Cut: m.Cut, Subtitles: m.Subtitles, FrameRate: m.FrameRate, Frames: c.frames, Tracks: []Track{}}
	ids := make([]int, 0, len(c.tracks))
	for id := range c.tracks {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	if err := os.MkdirAll(faces, 0o755); err != nil {
		return nil, fmt.Errorf("%s: %w", faces, err)
	}
	keep := map[string]bool{}
	var written []string
	for _, id := range ids {
		t := c.tracks[id]
		if t.Descriptors > 0 {
			d := t.desc
			t.Descriptor = &d
		}
		if t.jpeg != nil {
			name := fmt.Sprintf("track-%d.jpg", id)
			p := filepath.Join(faces, name)
			if err := outfile.WriteFile(p, t.jpeg, 0o644); err != nil {
				return written, fmt.Errorf("%s: %w", p, err)
			}
			keep[name] = true
			written = append(written, p)
			t.Crop = rel(dir, p)
		}
		f.Tracks = append(f.Tracks, t.Track)
	}
	if old, err := os.ReadDir(faces); err == nil {
		for _, e := range old {
			if n := e.Name(); strings.HasPrefix(n, "track-") && strings.HasSuffix(n, ".jpg") && !keep[n] {
				os.Remove(filepath.Join(faces, n))
			}
		}
	}
	if err := outfile.WriteFile(path, f.encode(), 0o600); err != nil {
		return written, fmt.Errorf("%s: %w", path, err)
	}
	return append(written, path), nil
}
