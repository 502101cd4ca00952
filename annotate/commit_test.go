package annotate_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vidtag/vidtag/annotate"
	"github.com/vidtag/vidtag/internal/testengine"
	"github.com/vidtag/vidtag/internal/testenv"
	"github.com/vidtag/vidtag/settings"
)

// TestCommitOrder: the video goes into place last. When the report cannot
// be written (its folder turned into a file after the checks), neither the
// video nor the sidecar is left; under the old order (video, sidecar,
// report) both were. Then a run that succeeds leaves all three.
func TestCommitOrder(t *testing.T) {
	dir := t.TempDir()
	clip := filepath.Join(dir, "in.mp4")
	testenv.ShortClip(t, clip, 15, true)
	env := testengine.Env(t, 1)

	opt := settings.Defaults().Annotate()
	opt.Input, opt.Output, opt.Sidecar = clip, filepath.Join(dir, "out.mp4"), filepath.Join(dir, "out.jsonl")
	opt.Report = filepath.Join(dir, "rep", "out.report.json")
	os.Mkdir(filepath.Join(dir, "rep"), 0o755)
	plan, err := annotate.Prepare(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	// The folder goes (with the lock file Prepare put beside the report)
	// and a file takes its name: the report cannot be written.
	os.RemoveAll(filepath.Join(dir, "rep"))
	os.WriteFile(filepath.Join(dir, "rep"), []byte("not a folder"), 0o644)
	if _, err := annotate.Run(context.Background(), env, plan); err == nil || !strings.Contains(err.Error(), "out.report.json") {
		t.Fatalf("err = %v, want the report's error", err)
	}
	if got := names(t, dir); !slices.Equal(got, []string{"in.mp4", "rep"}) {
		t.Errorf("after the report failed the folder holds %v, want only the input", got)
	}

	os.Remove(filepath.Join(dir, "rep"))
	os.Mkdir(filepath.Join(dir, "rep"), 0o755)
	if _, err := annotate.Run(context.Background(), env, plan); err != nil {
		t.Fatal(err)
	}
	if got := names(t, dir); !slices.Equal(got, []string{"in.mp4", "out.jsonl", "out.mp4", "rep"}) {
		t.Errorf("after a good run the folder holds %v", got)
	}
	if _, err := os.Stat(opt.Report); err != nil {
		t.Error(err)
	}
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}
