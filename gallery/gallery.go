package gallery

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// Descriptor is a 128-d face embedding.
type Descriptor = [128]float32

// Unknown is the label of a face that matches nobody.
const Unknown = "Unknown"

// Gallery is a set of labelled descriptors. It is read-only after Load and
// safe for concurrent use.
type Gallery struct {
	labels []string // labels[i] belongs to descs[i]
	descs  []Descriptor
	people []string // distinct labels, sorted
}

// New builds a gallery from labelled descriptors (labels[i] for descs[i]).
func New(labels []string, descs []Descriptor) *Gallery {
	g := &Gallery{labels: labels, descs: descs}
	seen := map[string]bool{}
	for _, l := range labels {
		if !seen[l] {
			seen[l] = true
			g.people = append(g.people, l)
		}
	}
	sort.Strings(g.people)
	return g
}

// People lists the labels, sorted.
func (g *Gallery) People() []string { return g.people }

// Len is the number of known descriptors.
func (g *Gallery) Len() int { return len(g.descs) }

// Entry returns the i-th known descriptor and its label (0 <= i < Len).
func (g *Gallery) Entry(i int) (string, Descriptor) { return g.labels[i], g.descs[i] }

// Match is the answer for one face.
type Match struct {
	Label    string  // the nearest person within tolerance, else Unknown
	Known    bool    // Label is a person
	Distance float64 // to the nearest known descriptor; NaN when the gallery is empty
}

// Match finds the nearest known descriptor. It names that person when the
// distance is at most tol (face_recognition's rule), else Unknown.
func (g *Gallery) Match(d Descriptor, tol float64) Match {
	best, bestDist := -1, math.Inf(1)
	for i := range g.descs {
		if dist := Distance(d, g.descs[i]); dist < bestDist {
			best, bestDist = i, dist
		}
	}
	if best < 0 {
		return Match{Label: Unknown, Distance: math.NaN()}
	}
	if bestDist <= tol {
		return Match{Label: g.labels[best], Known: true, Distance: bestDist}
	}
	return Match{Label: Unknown, Distance: bestDist}
}

// DistanceTo is the distance from d to the nearest descriptor of label.
func (g *Gallery) DistanceTo(d Descriptor, label string) float64 {
	best := math.Inf(1)
	for i := range g.descs {
		if g.labels[i] == label {
			best = math.Min(best, Distance(d, g.descs[i]))
		}
	}
	return best
}

// Distance is the Euclidean distance between two descriptors.
func Distance(a, b Descriptor) float64 {
	var sum float32
	for i := range a {
		d := a[i] - b[i]
		sum += d * d
	}
	return math.Sqrt(float64(sum))
}

// FaceFinder returns the descriptor of every face in a photo.
type FaceFinder func(path string) ([]Descriptor, error)

// Problem is a photo that was skipped, and why.
type Problem struct {
	Path string
	Err  error
}

func (p Problem) Error() string { return p.Path + ": " + p.Err.Error() }

// Reasons a photo is skipped.
var (
	ErrNoFace     = errors.New("no face found; skipped")
	ErrManyFaces  = errors.New("more than one face; skipped (crop it to one person)")
	ErrNoFolder   = errors.New("known-faces folder not found")
	ErrNotAFolder = errors.New("not a folder")
)

var imageExt = map[string]bool{".jpg": true, ".jpeg": true, ".png": true, ".bmp": true, ".webp": true, ".tif": true, ".tiff": true}

// Photo is one enrollment photo and the label it gives.
type Photo struct {
	Label string
	Path  string
}

// Photos lists the enrollment photos in dir, sorted by label and path.
// Hidden files and files that are not images by extension are ignored.
func Photos(dir string) ([]Photo, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, ErrNoFolder)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s: %w", dir, ErrNotAFolder)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	var photos []Photo
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		path := filepath.Join(dir, name)
		if e.IsDir() {
			sub, err := os.ReadDir(path)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			for _, s := range sub {
				if !s.IsDir() && !strings.HasPrefix(s.Name(), ".") && imageExt[strings.ToLower(filepath.Ext(s.Name()))] {
					photos = append(photos, Photo{Label: name, Path: filepath.Join(path, s.Name())})
				}
			}
			continue
		}
		if ext := filepath.Ext(name); imageExt[strings.ToLower(ext)] {
			photos = append(photos, Photo{Label: strings.TrimSuffix(name, ext), Path: path})
		}
	}
	sort.Slice(photos, func(i, j int) bool {
		if photos[i].Label != photos[j].Label {
			return photos[i].Label < photos[j].Label
		}
		return photos[i].Path < photos[j].Path
	})
	return photos, nil
}

// Load enrolls every photo in dir, in parallel with one finder per worker.
// Photos with no face, several faces or unreadable content come back as
// problems; only a missing or unreadable folder is an error. The gallery's
// order does not depend on the number of finders.
func Load(dir string, finders ...FaceFinder) (*Gallery, []Problem, error) {
	photos, err := Photos(dir)
	if err != nil {
		return nil, nil, err
	}
	type result struct {
		desc Descriptor
		err  error
	}
	results := make([]result, len(photos))
	next := make(chan int)
	var wg sync.WaitGroup
	for _, find := range finders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				descs, err := find(photos[i].Path)
				switch {
				case err != nil:
					results[i].err = err
				case len(descs) == 0:
					results[i].err = ErrNoFace
				case len(descs) > 1:
					results[i].err = fmt.Errorf("%d faces: %w", len(descs), ErrManyFaces)
				default:
					results[i].desc = descs[0]
				}
			}
		}()
	}
	for i := range photos {
		next <- i
	}
	close(next)
	wg.Wait()

	var labels []string
	var descs []Descriptor
	var problems []Problem
	for i, r := range results {
		if r.err != nil {
			problems = append(problems, Problem{Path: photos[i].Path, Err: r.err})
			continue
		}
		labels = append(labels, photos[i].Label)
		descs = append(descs, r.desc)
	}
	return New(labels, descs), problems, nil
}

// Fingerprint identifies the contents of a known-faces folder: the labels,
// paths and bytes of its photos. Outputs made with another fingerprint are
// stale. It reads the photos but does not decode them.
func Fingerprint(dir string) (string, error) {
	photos, err := Photos(dir)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, p := range photos {
		rel, _ := filepath.Rel(dir, p.Path)
		fmt.Fprintf(h, "%s\x00%s\x00", p.Label, rel)
		f, err := os.Open(p.Path)
		if err != nil { // enrollment warns about it and skips it
			fmt.Fprintf(h, "unreadable\x00")
			continue
		}
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			fmt.Fprintf(h, "unreadable\x00")
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}
