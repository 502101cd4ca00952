package embed

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"

	"github.com/vidtag/vidtag/internal/testenv"
)

func newEmbedder(t *testing.T) *Embedder {
	t.Helper()
	e, err := New(testenv.Models(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

func photo(t *testing.T, name string) gocv.Mat {
	t.Helper()
	img := gocv.IMRead(testenv.Data(t, "known", name), gocv.IMReadColor)
	if img.Empty() {
		t.Fatalf("cannot read %s", name)
	}
	t.Cleanup(func() { img.Close() })
	return img
}

// TestLoadFrontalKeepsTheDecodedDetector: the first load decodes dlib's
// detector and keeps it in the cache (folder 0700, file 0600); later loads
// read it and find the same faces; a damaged file is decoded afresh and
// replaced; no cache folder decodes every time.
func TestLoadFrontalKeepsTheDecodedDetector(t *testing.T) {
	cache := filepath.Join(t.TempDir(), "dlib")
	img := photo(t, "Barack Obama.jpg")

	first := newEmbedder(t)
	if err := first.LoadFrontal(cache); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(cache, "frontal_face_detector-*.dat"))
	if len(files) != 1 {
		t.Fatalf("cache holds %v, want one detector file", files)
	}
	kept, _ := os.ReadFile(files[0])
	if st, _ := os.Stat(cache); st.Mode().Perm() != 0o700 {
		t.Errorf("cache folder %v, want 0700", st.Mode().Perm())
	}
	if st, _ := os.Stat(files[0]); st.Mode().Perm() != 0o600 {
		t.Errorf("detector file %v, want 0600", st.Mode().Perm())
	}
	want, err := first.Frontal(img)
	if err != nil || len(want) != 1 {
		t.Fatalf("decoded detector found %v, %v; want Obama's face", want, err)
	}

	for _, tc := range []struct {
		name  string
		setup func()
		cache string
	}{
		{"from the cache", func() {}, cache},
		{"damaged file", func() { os.WriteFile(files[0], []byte("not a detector"), 0o600) }, cache},
		{"truncated file", func() { os.WriteFile(files[0], kept[:len(kept)/2], 0o600) }, cache},
		{"no cache", func() {}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.setup()
			e := newEmbedder(t)
			if err := e.LoadFrontal(tc.cache); err != nil {
				t.Fatal(err)
			}
			got, err := e.Frontal(img)
			if err != nil || len(got) != 1 || got[0] != want[0] {
				t.Errorf("found %v, %v; want %v", got, err, want)
			}
			if now, _ := os.ReadFile(files[0]); !bytes.Equal(now, kept) {
				t.Errorf("the cache file is not the decoded detector (%d bytes, want %d)", len(now), len(kept))
			}
		})
	}
}

// TestFrontalFindsFrontalFacesOnly: a frontal face is found, an empty
// image has none, and Frontal before LoadFrontal is an error.
func TestFrontalFindsFrontalFacesOnly(t *testing.T) {
	e := newEmbedder(t)
	if _, err := e.Frontal(photo(t, "Joe Biden.jpg")); err == nil {
		t.Error("Frontal before LoadFrontal: no error")
	}
	if err := e.LoadFrontal(""); err != nil {
		t.Fatal(err)
	}
	if got, err := e.Frontal(photo(t, "Joe Biden.jpg")); err != nil || len(got) != 1 {
		t.Errorf("Biden's photo: %v, %v; want one face", got, err)
	}
	grey := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(127, 127, 127, 0), 300, 400, gocv.MatTypeCV8UC3)
	defer grey.Close()
	if got, err := e.Frontal(grey); err != nil || len(got) != 0 {
		t.Errorf("a grey image: %v, %v; want none", got, err)
	}
}
