package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vidtag/vidtag/internal/testenv"
)

// TestStatsEveryCommand: --stats, which annotate, batch and live all take,
// prints the step table in each (batch: added up over its videos; live:
// its mailbox source and steps), and nothing without it.
func TestStatsEveryCommand(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	os.Mkdir(in, 0o755)
	clip := filepath.Join(in, "a.mp4")
	testenv.ShortClip(t, clip, 20, false)
	tests := []struct {
		name  string
		args  []string
		steps []string // step names the table must have
	}{
		{"annotate", []string{"annotate", clip, "-o", filepath.Join(dir, "o.mp4")}, []string{"read", "detect", "track", "encode"}},
		{"batch", []string{"batch", in, "-o", filepath.Join(dir, "b"), "--sidecar-only"}, []string{"read", "detect", "track", "record"}},
		{"live", []string{"live", "--input", clip, "--headless"}, []string{"mailbox", "detect", "track", "show"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, stats := range []bool{false, true} {
				args := append([]string{}, tt.args...)
				if stats {
					args = append(args, "--stats")
				}
				code, _, stderr := runCLI(t, append(append(args, "--force"), modelArgs(t)...)...)
				if code != exitOK {
					t.Fatalf("%v: exit %d, stderr %q", args, code, stderr)
				}
				table := strings.Contains(stderr, "queue max")
				if table != stats {
					t.Fatalf("%v: step table printed %v, want %v; stderr %q", args, table, stats, stderr)
				}
				for _, step := range tt.steps {
					if stats && !strings.Contains(stderr, "\n"+step+" ") && !strings.Contains(stderr, " "+step+" ") {
						t.Errorf("%v: no %s row in %q", args, step, stderr)
					}
				}
			}
		})
	}
}
