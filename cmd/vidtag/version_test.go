package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vidtag/vidtag/internal/testenv"
	"github.com/vidtag/vidtag/models"
)

// TestVersion: vidtag --version names the version and every model file
// models.Files knows, with its sha256 and whether the file in use has it.
func TestVersion(t *testing.T) {
	t.Setenv("VIDTAG_MODELS", testenv.Models(t))
	code, stdout, stderr := runCLI(t, "--version")
	if code != exitOK || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if !strings.HasPrefix(stdout, "vidtag "+versionString()+" (go") {
		t.Errorf("first line: %q", strings.SplitN(stdout, "\n", 2)[0])
	}
	for name, sum := range models.Files {
		if !strings.Contains(stdout, name+strings.Repeat(" ", max(1, 43-len(name)))+"sha256 "+sum+"  ok\n") {
			t.Errorf("%s with sha256 %s, ok, not listed:\n%s", name, sum, stdout)
		}
	}

	// A folder with one corrupt model and the rest missing.
	dir := t.TempDir()
	bad := models.Names()[0]
	os.WriteFile(filepath.Join(dir, bad), []byte("not a model"), 0o666)
	os.Chmod(filepath.Join(dir, bad), 0o666)
	t.Setenv("VIDTAG_MODELS", dir)
	_, stdout, _ = runCLI(t, "--version")
	for _, name := range models.Names() {
		want := "missing"
		if name == bad {
			want = "MISMATCH, the file has "
		}
		line := ""
		for _, l := range strings.Split(stdout, "\n") {
			if strings.Contains(l, name) && strings.Contains(l, "sha256") {
				line = l
			}
		}
		if !strings.Contains(line, want) {
			t.Errorf("%s: line %q, want %q", name, line, want)
		}
	}
	if !strings.Contains(stdout, "warning: "+filepath.Join(dir, bad)+" (mode 0666) is writable by other users") {
		t.Errorf("no warning about the 0666 file:\n%s", stdout)
	}
}
