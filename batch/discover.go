// Package batch tags every video in a folder tree, headless: resumable,
// with failures isolated per video, several videos at once on one process's
// shared detector engines, and a deterministic share of the files per shard
// so that N processes on N machines (a Kubernetes Indexed Job) cover every
// file exactly once.
package batch

import (
	"github.com/vidtag/vidtag/annotate"

	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/vidtag/vidtag/internal/outfile"
)

// videoExt are the extensions taken as video candidates; each candidate is
// then probed, so a text file named .mp4 fails on its own.
var videoExt = map[string]bool{
	".mp4": true, ".m4v": true, ".mov": true, ".mkv": true, ".webm": true, ".avi": true, ".wmv": true,
	".flv": true, ".mpg": true, ".mpeg": true, ".ts": true, ".mts": true, ".m2ts": true, ".3gp": true, ".ogv": true,
}

// Video is one input and where its outputs go.
type Video struct {
	Rel     string // path relative to the input folder, with forward slashes
	Path    string // full input path
	Size    int64  // bytes (of the file a symlink points to)
	OutBase string // output path without extension: OUT/REL/NAME (or NAME.EXT)
}

// Outputs of a video.
func (v Video) MP4() string     { return v.OutBase + ".mp4" }
func (v Video) Sidecar() string { return v.OutBase + ".jsonl" }
func (v Video) Report() string  { return v.OutBase + ".report.json" }

// Tracks is the video's private track file (annotate.TrackFile).
func (v Video) Tracks() string { return annotate.DefaultTrackFile(v.OutBase) }

// Discover lists the video candidates under in, sorted by relative path,
// skipping hidden files and folders and the output folder out (which may
// lie inside in), and maps each to its outputs under out.
//
// Output names mirror the input tree: REL/NAME.EXT gives OUT/REL/NAME.mp4,
// .jsonl and .report.json. When inputs in one folder share a name (x.mp4
// beside x.mkv) each keeps its extension (x.mp4.mp4, x.mkv.mp4); should
// even that collide, a short hash of the input path is added. So two inputs
// never write the same file.
func Discover(in, out string) ([]Video, error) {
	vids, _, err := discover(in, out)
	return vids, err
}

// discover is Discover that also returns the folders it could not read,
// as failed report lines: one unreadable folder does not stop a batch.
func discover(in, out string) ([]Video, []VideoResult, error) {
	st, err := os.Stat(in)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", in, outfile.UnwrapPathError(err))
	}
	if !st.IsDir() {
		return nil, nil, fmt.Errorf("%s: not a folder", in)
	}
	outInfo, _ := os.Stat(out)
	var vids []Video
	var unreadable []VideoResult
	err = filepath.WalkDir(in, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			rel, _ := filepath.Rel(in, path)
			unreadable = append(unreadable, VideoResult{Input: filepath.ToSlash(rel) + "/", Status: StatusFailed,
				Error: "folder not read: " + outfile.UnwrapPathError(err).Error(), People: map[string]float64{}})
			if d != nil && d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if path == in {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if outInfo != nil {
				if st, err := os.Stat(path); err == nil && os.SameFile(st, outInfo) {
					return filepath.SkipDir
				}
			}
			return nil
		}
		if !d.Type().IsRegular() && d.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		if !videoExt[strings.ToLower(filepath.Ext(d.Name()))] {
			return nil
		}
		rel, err := filepath.Rel(in, path)
		if err != nil {
			return err
		}
		var size int64
		if st, err := os.Stat(path); err == nil {
			size = st.Size()
		}
		vids = append(vids, Video{Rel: filepath.ToSlash(rel), Path: path, Size: size})
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", in, err)
	}
	sort.Slice(vids, func(i, j int) bool { return vids[i].Rel < vids[j].Rel })
	assignOutputs(vids, out)
	return vids, unreadable, nil
}

// CheckFolders refuses an output folder that is the input folder: every
// output would sit among the inputs (and x.mp4's output is x.mp4). An
// output folder inside the input folder is fine (it is skipped when
// looking for videos), and one around it is checked file by file
// (CheckOutputs). The error wraps outfile.ErrIsInput: a usage error.
func CheckFolders(in, out string) error {
	if outfile.SameFile(in, out) {
		return fmt.Errorf("-o %s: is the input folder; give another output folder: %w", out, outfile.ErrIsInput)
	}
	return nil
}

// CheckOutputs fails when any output of any video (or the batch report or
// plan) would be one of the input videos, by path or by device and inode.
func CheckOutputs(vids []Video, out string, s Shard) error {
	type id struct{ dev, ino uint64 }
	inputs := map[string]string{}
	ids := map[id]string{}
	for _, v := range vids {
		inputs[outfile.Resolve(v.Path)] = v.Path
		if st, err := os.Stat(v.Path); err == nil {
			if sys, ok := st.Sys().(*syscall.Stat_t); ok {
				ids[id{uint64(sys.Dev), uint64(sys.Ino)}] = v.Path
			}
		}
	}
	check := func(p string) error {
		in, ok := inputs[outfile.Resolve(p)]
		if !ok {
			if st, err := os.Stat(p); err == nil {
				if sys, isStat := st.Sys().(*syscall.Stat_t); isStat {
					in, ok = ids[id{uint64(sys.Dev), uint64(sys.Ino)}]
				}
			}
		}
		if ok {
			return fmt.Errorf("-o %s: output %s would replace input %s: %w", out, p, in, outfile.ErrIsInput)
		}
		return nil
	}
	for _, v := range vids {
		for _, p := range []string{v.MP4(), v.Sidecar(), v.Report()} {
			if err := check(p); err != nil {
				return err
			}
		}
	}
	if err := check(PlanPath(out, s)); err != nil {
		return err
	}
	return check(ReportPath(out, s))
}

// assignOutputs sets each video's OutBase, resolving name clashes.
func assignOutputs(vids []Video, out string) {
	stem := func(rel string) string { return strings.TrimSuffix(rel, filepath.Ext(rel)) }
	count := map[string]int{}
	for _, v := range vids {
		count[strings.ToLower(stem(v.Rel))]++
	}
	used := map[string]bool{}
	for i, v := range vids {
		base := stem(v.Rel)
		if count[strings.ToLower(base)] > 1 {
			base = v.Rel // keep the extension: x.mp4.mp4, x.mkv.mp4
		}
		if used[strings.ToLower(base)] {
			sum := sha256.Sum256([]byte(v.Rel))
			base = v.Rel + "." + hex.EncodeToString(sum[:4])
		}
		used[strings.ToLower(base)] = true
		vids[i].OutBase = filepath.Join(out, filepath.FromSlash(base))
	}
}

// Shard is a share of the files: shard Index of Count.
//
// With LongShards K > 0, videos of at least LongSize bytes go only to the
// first K shards (by the same hash, modulo K). A Kubernetes Indexed Job
// hands its indices out in order, so with K = parallelism the long videos
// start first, as a longest-first queue would, instead of whenever their
// index comes up (see internal/shardsim). The rule looks at each file
// alone, so every pod still computes the same split without talking to
// the others.
type Shard struct {
	Index, Count int
	LongShards   int
	LongSize     int64
}

// ParseShard reads "I/N" (0 <= I < N).
func ParseShard(s string) (Shard, error) {
	var sh Shard
	if _, err := fmt.Sscanf(s, "%d/%d", &sh.Index, &sh.Count); err != nil || fmt.Sprintf("%d/%d", sh.Index, sh.Count) != s {
		return sh, fmt.Errorf("--shard %q: want I/N, e.g. 0/4", s)
	}
	if sh.Count < 1 || sh.Index < 0 || sh.Index >= sh.Count {
		return sh, fmt.Errorf("--shard %q: want 0 <= I < N", s)
	}
	return sh, nil
}

// Owns reports whether a video belongs to this shard: by a hash of its
// relative path, so every process computes the same split without talking
// to the others, and adding files does not move the others between shards.
func (s Shard) Owns(v Video) bool {
	if s.Count <= 1 {
		return true
	}
	return s.Of(v.Rel, v.Size) == s.Index
}

// Of is the index of the shard that owns the video at rel of size bytes.
func (s Shard) Of(rel string, size int64) int {
	if s.LongShards > 0 && s.LongShards < s.Count && size >= s.LongSize {
		return ShardOf(rel, s.LongShards)
	}
	return ShardOf(rel, s.Count)
}

// ShardOf is the index of the shard of n that owns the video at rel (a
// path relative to the input folder, with forward slashes).
func ShardOf(rel string, n int) int {
	if n <= 1 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(rel))
	return int(h.Sum64() % uint64(n))
}

func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }
