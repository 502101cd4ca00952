package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vidtag/vidtag/internal/testenv"
)

// TestWritesOnlyOutputsAndPrivateCache runs annotate with a fresh home,
// working folder and TMPDIR: afterwards the only new files are the named
// outputs and the caches (known faces, dlib's decoded HOG detector), whose
// folders are 0700 and files 0600
// (face descriptors are biometric). A cache an older version left 0755 and
// 0644 is closed up on the next run.
func TestWritesOnlyOutputsAndPrivateCache(t *testing.T) {
	models := testenv.Models(t)
	clip := testenv.Data(t, "clips", "short_hamilton_clip.mp4")
	known := testenv.Data(t, "known")
	root := t.TempDir()
	home, work, tmp, out := filepath.Join(root, "home"), filepath.Join(root, "work"), filepath.Join(root, "tmp"), filepath.Join(root, "out")
	for _, d := range []string{home, work, tmp, out} {
		os.Mkdir(d, 0o755)
	}
	t.Setenv("HOME", home)
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("VIDTAG_CACHE", "")
	t.Setenv("TMPDIR", tmp)
	t.Chdir(work)

	run := func() {
		t.Helper()
		code, _, stderr := runCLI(t, "annotate", clip, "-o", filepath.Join(out, "a.mp4"), "--report", filepath.Join(out, "a.report.json"),
			"--known", known, "--models", models, "--detect-every", "90", "--force", "--log-level", "warn")
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
	}
	run()

	var files []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			files = append(files, rel)
		}
		return nil
	})
	// The caches: known-face descriptors and dlib's decoded HOG detector.
	cache := filepath.Join("home", ".cache", "vidtag")
	caches := []string{cache, filepath.Join(cache, "known"), filepath.Join(cache, "dlib")}
	var outputs, cached, crops []string
	for _, f := range files {
		switch {
		case strings.HasPrefix(f, cache+string(filepath.Separator)):
			cached = append(cached, f)
		case strings.HasPrefix(f, filepath.Join("out", "a.faces")+string(filepath.Separator)):
			crops = append(crops, f) // the people step's face crops (the page's thumbnails)
		default:
			outputs = append(outputs, f)
		}
	}
	if want := []string{"out/a.html", "out/a.jsonl", "out/a.mp4", "out/a.people.json", "out/a.report.json", "out/a.vtt"}; !slices.Equal(outputs, want) || len(crops) == 0 {
		t.Errorf("files written: %v and %d crops; want the outputs %v, face crops and the cache", outputs, len(crops), want)
	}
	// The people file holds descriptors: biometric data.
	if st, err := os.Stat(filepath.Join(out, "a.people.json")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("a.people.json: %v, want -rw-------", st.Mode())
	}
	if len(cached) < 2 {
		t.Fatalf("cached %v, want known faces and the dlib detector", cached)
	}
	checkModes := func() {
		t.Helper()
		for _, d := range caches {
			if st, err := os.Stat(filepath.Join(root, d)); err != nil || st.Mode().Perm() != 0o700 {
				t.Errorf("%s: %v, want drwx------", d, st.Mode())
			}
		}
		for _, f := range cached {
			if st, err := os.Stat(filepath.Join(root, f)); err != nil || st.Mode().Perm() != 0o600 {
				t.Errorf("%s: %v, want -rw-------", f, st.Mode())
			}
		}
	}
	checkModes()

	// An older version's cache: 0755 folders, 0644 files.
	for _, d := range caches {
		os.Chmod(filepath.Join(root, d), 0o755)
	}
	for _, f := range cached {
		os.Chmod(filepath.Join(root, f), 0o644)
	}
	run()
	checkModes()
}
