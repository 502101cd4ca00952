package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vidtag/vidtag/internal/testenv"
)

// knownFolder builds a known-faces folder of sub-folders from the
// identities/ photos: label -> photo files.
func knownFolder(t *testing.T, people map[string][]string) string {
	t.Helper()
	src := testenv.Data(t, "identities")
	dir := t.TempDir()
	for label, files := range people {
		os.MkdirAll(filepath.Join(dir, label), 0o755)
		for _, f := range files {
			b, err := os.ReadFile(filepath.Join(src, f))
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, label, f), b, 0o644)
		}
	}
	return dir
}

// TestKnownCheck: identities.csv says img1, 2, 4, 5 are one person (p01)
// and img26, 27, 28 another (p10).
func TestKnownCheck(t *testing.T) {
	t.Setenv("VIDTAG_MODELS", testenv.Models(t))
	tests := []struct {
		name     string
		people   map[string][]string
		wantCode int
		want     []string
	}{
		{"good folder", map[string][]string{"Ann": {"img1.jpg", "img2.jpg", "img4.jpg"}, "Bob": {"img26.jpg", "img27.jpg", "img28.jpg"}},
			0, []string{"Ann: 3 photos agree", "Bob: 3 photos agree", "look-alikes: none", "tolerance auto picks", "verdict: ok"}},
		{"a photo of Ann misfiled in Bob's folder", map[string][]string{"Ann": {"img1.jpg", "img2.jpg", "img4.jpg"}, "Bob": {"img26.jpg", "img27.jpg", "img28.jpg", "img5.jpg"}},
			1, []string{"Bob: 4 photos DISAGREE: " + filepath.Join("Bob", "img5.jpg"), "probably Ann, misfiled", "move or remove", "verdict: names from this folder are unreliable"}},
		{"look-alikes (one person in two folders)", map[string][]string{"Ann": {"img1.jpg", "img2.jpg"}, "Anna": {"img4.jpg", "img5.jpg"}, "Bob": {"img26.jpg", "img27.jpg", "img28.jpg"}},
			1, []string{"look-alikes (vidtag will confuse them):\n  Ann ~ Anna", "Ann and Anna look alike", "add photos of Ann and Anna"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := knownFolder(t, tt.people)
			code, out, errs := runCLI(t, "known", "check", dir)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\n%s%s", code, tt.wantCode, out, errs)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if tt.wantCode == 1 && !strings.Contains(lastLine(errs), dir+": names from this folder are unreliable") {
				t.Errorf("stderr: %s", errs)
			}
		})
	}
	if code, _, errs := runCLI(t, "known", "check", filepath.Join(t.TempDir(), "missing")); code != 1 || !strings.Contains(errs, "known-faces folder not found") {
		t.Errorf("missing folder: exit %d, %s", code, errs)
	}
	if code, _, _ := runCLI(t, "known", "check"); code != 2 {
		t.Errorf("no DIR: exit %d, want 2", code)
	}
}
