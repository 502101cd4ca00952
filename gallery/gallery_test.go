package gallery

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func desc(vals ...float32) Descriptor {
	var d Descriptor
	copy(d[:], vals)
	return d
}

func TestMatchToleranceEdges(t *testing.T) {
	g := New([]string{"Ann", "Bob", "Ann"}, []Descriptor{desc(0), desc(1), desc(0, 1)})
	tests := []struct {
		name      string
		face      Descriptor
		tol       float64
		wantLabel string
		wantDist  float64
	}{
		{"exact", desc(0), 0.6, "Ann", 0},
		{"just inside (distance == tolerance)", desc(0, 0, 0.5), 0.5, "Ann", 0.5},
		{"just outside", desc(0, 0, 0.50001), 0.5, Unknown, 0.50001},
		{"nearest wins over first", desc(0.9), 0.6, "Bob", 0.1},
		{"second photo of a person", desc(0, 0.8), 0.6, "Ann", 0.2},
		{"tighter tolerance", desc(0, 0, 0.5), 0.4, Unknown, 0.5},
		{"Euclidean not squared", desc(0.3, 0.4), 0.55, "Ann", 0.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := g.Match(tt.face, tt.tol)
			if m.Label != tt.wantLabel || m.Known != (tt.wantLabel != Unknown) || math.Abs(m.Distance-tt.wantDist) > 1e-5 {
				t.Errorf("Match() = %+v, want %s at %.5f", m, tt.wantLabel, tt.wantDist)
			}
		})
	}
}

func TestMatchEmptyGallery(t *testing.T) {
	m := New(nil, nil).Match(desc(0), 0.6)
	if m.Label != Unknown || m.Known || !math.IsNaN(m.Distance) {
		t.Errorf("empty gallery: %+v, want Unknown with no distance", m)
	}
}

// fakeFinder returns as many faces as the file's first byte says ('0'..'9');
// files whose content starts with '!' are unreadable.
func fakeFinder(path string) ([]Descriptor, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if b[0] == '!' {
		return nil, errors.New("unreadable image")
	}
	n := int(b[0] - '0')
	out := make([]Descriptor, n)
	for i := range out {
		out[i] = desc(float32(len(b)))
	}
	return out, nil
}

func TestLoadBothLayouts(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"Ann.jpg":          "1a",
		"Bob/one.png":      "1bb",
		"Bob/two.JPEG":     "1bbb",
		"Bob/notes.txt":    "1",
		"Nobody.jpg":       "0",
		"Two People.jpg":   "2",
		"Broken.png":       "!",
		".hidden.jpg":      "1",
		"Cy/.DS_Store.jpg": "1",
		"readme.md":        "1",
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(content), 0o644)
	}
	for _, workers := range []int{1, 3} {
		finders := make([]FaceFinder, workers)
		for i := range finders {
			finders[i] = fakeFinder
		}
		g, problems, err := Load(dir, finders...)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(g.People(), ","); got != "Ann,Bob" {
			t.Errorf("people %q, want Ann,Bob", got)
		}
		if g.Len() != 3 {
			t.Errorf("%d descriptors, want 3 (Ann, and Bob twice)", g.Len())
		}
		want := map[string]error{"Nobody.jpg": ErrNoFace, "Two People.jpg": ErrManyFaces, "Broken.png": nil}
		if len(problems) != len(want) {
			t.Fatalf("problems %v, want %d", problems, len(want))
		}
		for _, p := range problems {
			w, ok := want[filepath.Base(p.Path)]
			if !ok || (w != nil && !errors.Is(p.Err, w)) {
				t.Errorf("unexpected problem %v", p)
			}
			if !strings.Contains(p.Error(), filepath.Base(p.Path)) {
				t.Errorf("problem %q does not name the photo", p.Error())
			}
		}
		if m := g.Match(desc(4), 0.6); m.Label != "Bob" {
			t.Errorf("Bob's second photo not used: %+v", m)
		}
	}
}

func TestLoadBadFolder(t *testing.T) {
	if _, _, err := Load(filepath.Join(t.TempDir(), "missing"), fakeFinder); !errors.Is(err, ErrNoFolder) {
		t.Errorf("missing folder: %v", err)
	}
	f := filepath.Join(t.TempDir(), "file.jpg")
	os.WriteFile(f, []byte("1"), 0o644)
	if _, _, err := Load(f, fakeFinder); !errors.Is(err, ErrNotAFolder) {
		t.Errorf("file as folder: %v", err)
	}
}

func TestFingerprintChangesWithContent(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Ann.jpg"), []byte("1a"), 0o644)
	a, _ := Fingerprint(dir)
	b, _ := Fingerprint(dir)
	os.WriteFile(filepath.Join(dir, "Ann.jpg"), []byte("1b"), 0o644)
	c, _ := Fingerprint(dir)
	os.Rename(filepath.Join(dir, "Ann.jpg"), filepath.Join(dir, "Bea.jpg"))
	d, _ := Fingerprint(dir)
	if a != b || a == c || c == d {
		t.Errorf("fingerprints %s %s %s %s: want equal, then changed on content, then on label", a, b, c, d)
	}
}

func TestCachedFinder(t *testing.T) {
	dir, cache := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(dir, "Ann.jpg"), []byte("1aa"), 0o644)
	os.WriteFile(filepath.Join(dir, "Nobody.jpg"), []byte("0"), 0o644)
	calls := 0
	counting := func(path string) ([]Descriptor, error) { calls++; return fakeFinder(path) }
	load := func(version string) *Gallery {
		g, problems, err := Load(dir, Cached(cache, version, counting))
		if err != nil || len(problems) != 1 {
			t.Fatalf("problems %v, err %v", problems, err)
		}
		return g
	}
	first := load("v1")
	second := load("v1")
	if calls != 2 {
		t.Errorf("finder ran %d times for two loads of two photos, want 2 (cached the second time)", calls)
	}
	if first.Match(desc(3), 0.6) != second.Match(desc(3), 0.6) {
		t.Error("cached gallery differs")
	}
	load("v2") // other models: not from the cache
	if calls != 4 {
		t.Errorf("finder ran %d times, want 4: a new version must not hit the old cache", calls)
	}
	os.WriteFile(filepath.Join(dir, "Ann.jpg"), []byte("1bbbb"), 0o644)
	if g := load("v2"); calls != 5 || g.Match(desc(5), 0.6).Label != "Ann" {
		t.Errorf("changed photo: %d calls", calls)
	}
	// An unwritable cache folder only costs speed.
	g, _, err := Load(dir, Cached("/proc/no-such-cache", "v1", counting))
	if err != nil || g.Len() != 1 {
		t.Errorf("with an unusable cache: %v, %d", err, g.Len())
	}
}
