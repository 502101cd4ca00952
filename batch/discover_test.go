package batch

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vidtag/vidtag/internal/outfile"
)

func touch(t *testing.T, path string) {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDiscover(t *testing.T) {
	in := t.TempDir()
	out := filepath.Join(in, "tagged") // the output folder inside the input
	for _, f := range []string{
		"b.mp4", "a/clip.MOV", "a/z.webm", "x.mp4", "x.mkv", "x.mkv.mp4", "notes.txt", ".hidden.mp4",
		".cache/c.mp4", "tagged/old.mp4", "deep/er/still.mkv",
	} {
		touch(t, filepath.Join(in, f))
	}
	vids, err := Discover(in, out)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range vids {
		rel, _ := filepath.Rel(out, v.OutBase)
		got = append(got, v.Rel+" -> "+filepath.ToSlash(rel))
	}
	want := []string{
		"a/clip.MOV -> a/clip",
		"a/z.webm -> a/z",
		"b.mp4 -> b",
		"deep/er/still.mkv -> deep/er/still",
		"x.mkv -> x.mkv",                  // x.mkv and x.mp4 share a name: both keep their extension
		"x.mkv.mp4 -> x.mkv.mp4.76e4b361", // and that name is taken: a hash of the path is added
		"x.mp4 -> x.mp4",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	seen := map[string]bool{}
	for _, v := range vids {
		for _, p := range []string{v.MP4(), v.Sidecar(), v.Report()} {
			if seen[strings.ToLower(p)] {
				t.Errorf("two inputs write %s", p)
			}
			seen[strings.ToLower(p)] = true
		}
	}
	if _, err := Discover(filepath.Join(in, "missing"), out); err == nil {
		t.Error("a missing input folder was accepted")
	}
}

func TestShardsCoverEveryFileOnce(t *testing.T) {
	var vids []Video
	for i := 0; i < 1000; i++ {
		// Every 10th file is big: 1 GB against 10 MB.
		size := int64(10e6)
		if i%10 == 0 {
			size = 1e9
		}
		vids = append(vids, Video{Rel: fmt.Sprintf("season%d/episode%03d.mp4", i%7, i), Size: size})
	}
	for _, tt := range []struct{ n, long int }{{1, 0}, {2, 0}, {3, 0}, {8, 0}, {48, 0}, {48, 3}, {256, 8}, {8, 8}} {
		count := make([]int, tt.n)
		for _, v := range vids {
			owners := 0
			for i := 0; i < tt.n; i++ {
				if (Shard{Index: i, Count: tt.n, LongShards: tt.long, LongSize: 500e6}).Owns(v) {
					owners++
					count[i]++
					if tt.long > 0 && v.Size >= 500e6 && i >= tt.long {
						t.Errorf("%d shards, long ones in the first %d: %s (big) went to shard %d", tt.n, tt.long, v.Rel, i)
					}
				}
			}
			if owners != 1 {
				t.Fatalf("%d shards (long %d): %s owned by %d", tt.n, tt.long, v.Rel, owners)
			}
		}
		if tt.n > 8 {
			continue // a few files a shard: the hash's spread is all there is
		}
		for i, c := range count {
			if c < 1000/tt.n/2 {
				t.Errorf("%d shards: shard %d has only %d of 1000 files", tt.n, i, c)
			}
		}
	}
}

func TestParseShard(t *testing.T) {
	tests := []struct {
		in  string
		ok  bool
		out Shard
	}{
		{"0/1", true, Shard{Index: 0, Count: 1}}, {"2/3", true, Shard{Index: 2, Count: 3}}, {"3/3", false, Shard{}}, {"-1/3", false, Shard{}},
		{"1", false, Shard{}}, {"a/b", false, Shard{}}, {"1/0", false, Shard{}}, {"1/3x", false, Shard{}},
	}
	for _, tt := range tests {
		got, err := ParseShard(tt.in)
		if (err == nil) != tt.ok || (tt.ok && got != tt.out) {
			t.Errorf("ParseShard(%q) = %v, %v", tt.in, got, err)
		}
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"500MB", 500e6, true}, {"2GiB", 2 << 30, true}, {"1.5 GB", 15e8, true}, {"123", 123, true}, {"0", 0, true}, {"10B", 10, true},
		{"", 0, false}, {"MB", 0, false}, {"-1MB", 0, false}, {"5 parsecs", 0, false}, {"1e30TB", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d (ok %v)", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// TestPlanNeverReplacesAnInput: the plan a batch writes at start is checked
// like every output: one that is an input video by another name is refused.
func TestPlanNeverReplacesAnInput(t *testing.T) {
	in, out := t.TempDir(), t.TempDir()
	video := filepath.Join(in, "x.mp4")
	os.WriteFile(video, []byte("video"), 0o644)
	vids, err := Discover(in, out)
	if err != nil {
		t.Fatal(err)
	}
	s := Shard{Index: 1, Count: 4}
	if err := CheckOutputs(vids, out, s); err != nil {
		t.Fatalf("clean folders refused: %v", err)
	}
	if err := os.Link(video, PlanPath(out, s)); err != nil {
		t.Fatal(err)
	}
	if err := CheckOutputs(vids, out, s); !errors.Is(err, outfile.ErrIsInput) {
		t.Errorf("a plan that is a hard link to an input: %v, want ErrIsInput", err)
	}
}
