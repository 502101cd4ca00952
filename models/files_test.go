package models_test

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/vidtag/vidtag/internal/testenv"
	"github.com/vidtag/vidtag/models"
)

// TestFetchModelsFixesModes: model files as npm's tarballs leave them
// (0666) are reported by WritableByOthers, and scripts/fetch-models.sh
// makes them 0644 (without downloading: they are there and correct).
func TestFetchModelsFixesModes(t *testing.T) {
	src := testenv.Models(t)
	dir := t.TempDir()
	for _, name := range models.Names() {
		in, err := os.Open(filepath.Join(src, name))
		testenv.Require(t, err == nil, "model "+name+" not in "+src)
		out, err := os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_WRONLY, 0o666)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(out, in)
		in.Close()
		out.Close()
		os.Chmod(filepath.Join(dir, name), 0o666)
	}
	if got := models.WritableByOthers(dir); len(got) != len(models.Files) {
		t.Errorf("WritableByOthers = %v, want all %d files", got, len(models.Files))
	}
	cmd := exec.Command(filepath.Join(testenv.RepoRoot(), "scripts", "fetch-models.sh"))
	cmd.Env = append(os.Environ(), "VIDTAG_MODELS="+dir)
	if out, err := cmd.CombinedOutput(); err != nil || len(out) != 0 {
		t.Fatalf("fetch-models.sh: %v\n%s", err, out)
	}
	for _, name := range models.Names() {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil || st.Mode().Perm() != models.Mode {
			t.Errorf("%s: %v, want %v", name, st.Mode(), models.Mode)
		}
	}
	if got := models.WritableByOthers(dir); len(got) != 0 {
		t.Errorf("still writable by others: %v", got)
	}
	if err := models.Verify(dir); err != nil {
		t.Error(err)
	}
}
