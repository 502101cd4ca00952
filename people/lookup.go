package people

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/vidtag/vidtag/gallery"
	"github.com/vidtag/vidtag/internal/outfile"
	"github.com/vidtag/vidtag/internal/tidy"
	"github.com/vidtag/vidtag/stages"
)

// ErrNoResult means a path holds no vidtag result to read.
var ErrNoResult = errors.New("no vidtag result here")

// Files finds the people files of a result: an output folder (every
// NAME.people.json under it), a people file, or any output of an annotate
// run (OUT.mp4, OUT.jsonl, OUT.html...: OUT.people.json beside it).
func Files(result string) ([]string, error) {
	st, err := os.Stat(result)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", result, err)
	}
	if st.IsDir() {
		paths := peopleFiles(result)
		sort.Strings(paths)
		if len(paths) == 0 {
			return nil, fmt.Errorf("%s: %w (no *%s under it: is it an annotate or batch output folder?)", result, ErrNoResult, FileSuffix)
		}
		return paths, nil
	}
	if strings.HasSuffix(result, FileSuffix) {
		return []string{result}, nil
	}
	p := PathFor(strings.TrimSuffix(strings.TrimSuffix(result, filepath.Ext(result)), ".report"))
	if _, err := os.Stat(p); err != nil {
		return nil, fmt.Errorf("%s: %w (no %s beside it)", result, ErrNoResult, filepath.Base(p))
	}
	return []string{p}, nil
}

// Appearance is a person in one video.
type Appearance struct {
	Input   string       `json:"input"`
	Video   string       `json:"video,omitempty"` // the annotated MP4
	Page    string       `json:"page"`            // the review page
	Seconds float64      `json:"seconds"`
	First   float64      `json:"first"`
	Last    float64      `json:"last"`
	Ranges  [][2]float64 `json:"ranges"`
}

// Found is where a person appears.
type Found struct {
	Name    string       `json:"name"`
	Seconds float64      `json:"seconds"`
	Videos  []Appearance `json:"videos"`
}

// CanonicalName reads what a user typed for a person: a known label,
// "Unknown #3", "#3" or "3" (a cluster).
func CanonicalName(s string) string {
	s = strings.TrimSpace(s)
	n := s
	if strings.HasPrefix(n, gallery.Unknown+" ") {
		n = strings.TrimSpace(strings.TrimPrefix(n, gallery.Unknown))
	}
	if c, err := strconv.Atoi(strings.TrimPrefix(n, "#")); err == nil && c > 0 {
		return ClusterName(c)
	}
	return s
}

// Find lists the videos of result (see Files) where name appears, with
// the time ranges, read from the sidecars. It also returns every name
// seen, for a helpful "not found".
func Find(result, name string) (*Found, []string, error) {
	paths, err := Files(result)
	if err != nil {
		return nil, nil, err
	}
	name = CanonicalName(name)
	found := &Found{Name: name, Videos: []Appearance{}}
	seen := map[string]bool{}
	for _, p := range paths {
		f, err := ReadFile(p)
		if err != nil {
			return nil, nil, err
		}
		all, err := readTimeline(p, f)
		if err != nil {
			return nil, nil, err
		}
		for n := range people(all) {
			seen[n] = true
		}
		pp, ok := all[name]
		if !ok || name == gallery.Unknown {
			continue
		}
		a := Appearance{Input: f.Name, Seconds: pp.Seconds, First: pp.First, Last: pp.Last, Ranges: pp.Ranges, Page: (&video{path: p, f: f}).htmlPath()}
		if f.Video != "" {
			a.Video = filepath.Join(filepath.Dir(p), f.Video)
		}
		found.Videos = append(found.Videos, a)
		found.Seconds = tidy.Round(found.Seconds+pp.Seconds, 2)
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return found, names, nil
}

// readTimeline is a video's timeline from its sidecar.
func readTimeline(path string, f *File) (map[string]Person, error) {
	sidecar := filepath.Join(filepath.Dir(path), f.Sidecar)
	in, err := os.Open(sidecar)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	tl := newTimeline(f.FrameRate)
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		fr, err := stages.ParseFrameJSON(sc.Bytes())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sidecar, err)
		}
		tl.add(fr)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", sidecar, err)
	}
	return tl.finish(), nil
}

// DefaultEnrollPhotos is how many crops enroll copies at most.
const DefaultEnrollPhotos = 5

// Enroll copies the best face crops (at most n, best first) of cluster c
// in result (see Files) into known/name/, the folder-per-person layout,
// so that the next run names that person. It never overwrites: if a file
// it would write exists, it writes nothing. It returns the files written.
func Enroll(result string, c int, name, known string, n int) ([]string, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	if st, err := os.Stat(known); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("%s: %w", known, gallery.ErrNoFolder)
	}
	paths, err := Files(result)
	if err != nil {
		return nil, err
	}
	type crop struct {
		src, dst string
		q        float64
	}
	var crops []crop
	clusters := map[int]bool{}
	for _, p := range paths {
		f, err := ReadFile(p)
		if err != nil {
			return nil, err
		}
		stem := strings.TrimLeft(strings.NewReplacer("/", "_", "\\", "_").Replace(strings.TrimSuffix(f.Name, filepath.Ext(f.Name))), "._")
		if stem == "" {
			stem = "video"
		}
		for _, t := range f.Tracks {
			if t.Cluster > 0 {
				clusters[t.Cluster] = true
			}
			if t.Cluster == c && t.Crop != "" {
				crops = append(crops, crop{filepath.Join(filepath.Dir(p), t.Crop), fmt.Sprintf("%s-track-%d.jpg", stem, t.ID), t.Quality})
			}
		}
	}
	if len(crops) == 0 {
		var ids []int
		for k := range clusters {
			ids = append(ids, k)
		}
		sort.Ints(ids)
		return nil, fmt.Errorf("%s: no cluster %d with a face crop (clusters here: %v)", result, c, ids)
	}
	sort.SliceStable(crops, func(i, j int) bool { return crops[i].q > crops[j].q })
	if n > 0 && len(crops) > n {
		crops = crops[:n]
	}
	dir := filepath.Join(known, name)
	for _, cr := range crops {
		if _, err := os.Lstat(filepath.Join(dir, cr.dst)); err == nil {
			return nil, fmt.Errorf("%s: exists; enroll never overwrites (nothing written)", filepath.Join(dir, cr.dst))
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var written []string
	for _, cr := range crops {
		b, err := os.ReadFile(cr.src)
		if err != nil {
			return written, err
		}
		dst := filepath.Join(dir, cr.dst)
		if err := writeNew(dst, b); err != nil {
			return written, err
		}
		written = append(written, dst)
	}
	return written, nil
}

// writeNew writes b to path atomically and only if path does not exist
// (a hard link from a temporary file fails on an existing name).
func writeNew(path string, b []byte) error {
	p, err := outfile.Create(path, 0o644)
	if err != nil {
		return err
	}
	defer p.Cleanup()
	if _, err := p.Write(b); err != nil {
		return err
	}
	if err := p.Sync(); err != nil {
		return err
	}
	if err := os.Link(p.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s: exists; enroll never overwrites", path)
		}
		return err
	}
	return nil
}

func checkName(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return fmt.Errorf("--name is empty")
	case strings.ContainsAny(name, "/\\\x00"), name == ".", name == "..", strings.HasPrefix(name, "."):
		return fmt.Errorf("--name %q: a person's name is a folder name: no slashes, not hidden", name)
	case name == gallery.Unknown || strings.HasPrefix(name, gallery.Unknown+" #"):
		return fmt.Errorf("--name %q: that is what vidtag calls strangers; give the person's name", name)
	}
	return nil
}

// peopleFiles lists the people files under dir, in the order WalkDir meets
// them, passing over hidden files and folders (the outputs' temporary
// files) and folders it cannot read (their videos are not there).
func peopleFiles(dir string) []string {
	var paths []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") && p != dir {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.IsDir() && strings.HasSuffix(d.Name(), FileSuffix) {
			paths = append(paths, p)
		}
		return nil
	})
	return paths
}
