package main

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vidtag/vidtag/internal/testenv"
)

// TestLazyIOModules runs the core as make build leaves it, without OpenCV's
// I/O modules among its needed libraries (scripts/lazy-cv.sh), through every
// path that uses them: reading the known photos (a cold cache), the HOG
// detector's JPEGs and live's VideoCapture; and the default annotate, which
// must not need them. A call into a module not yet loaded would end the
// process with "symbol lookup error".
func TestLazyIOModules(t *testing.T) {
	bin := buildVidtag(t)
	f, err := elf.Open(filepath.Join(filepath.Dir(bin), "vidtag-core"))
	if err != nil {
		t.Fatal(err)
	}
	needed, err := f.ImportedLibraries()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, lib := range needed {
		for _, m := range []string{"imgcodecs", "videoio", "highgui"} {
			if strings.HasPrefix(lib, "libopencv_"+m+".") {
				t.Errorf("the core still needs %s", lib)
			}
		}
	}
	clip := testenv.Data(t, "clips", "short_hamilton_clip.mp4")
	known := testenv.Data(t, "known")
	dir := t.TempDir()
	cases := []struct {
		name string
		args []string
	}{
		{"annotate, cold cache (photos read)", []string{"annotate", clip, "-o", filepath.Join(dir, "a.mp4"), "--known", known}},
		{"annotate, warm cache", []string{"annotate", clip, "-o", filepath.Join(dir, "b.mp4"), "--known", known}},
		{"annotate --detector hog (JPEGs)", []string{"annotate", clip, "-o", filepath.Join(dir, "c.mp4"), "--known", known, "--detector", "hog"}},
		{"live --input (VideoCapture)", []string{"live", "--input", clip, "--headless", "--known", known, "--report", filepath.Join(dir, "live.json")}},
	}
	cache := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(bin, append(c.args, "--models", testenv.Models(t), "--log-level", "warn")...)
			cmd.Env = append(os.Environ(), "VIDTAG_CACHE="+cache)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "live.json")); err != nil {
		t.Error("live wrote no report:", err)
	}
}
