// Package batch tags every video in a folder tree, headless: resumable,
// with failures isolated per video, several videos at once on one process's
// shared detector engines, and a deterministic share of the files per shard
// so that N processes on N machines (a Kubernetes Indexed Job) cover every
// file exactly once.
package batch

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
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
	OutBase string // output path without extension: OUT/REL/NAME (or NAME.EXT)
}

// Outputs of a video.
func (v Video) MP4() string     { return v.OutBase + ".mp4" }
func (v Video) Sidecar() string { return v.OutBase + ".jsonl" }
func (v Video) Report() string  { return v.OutBase + ".report.json" }

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
	st, err := os.Stat(in)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", in, unwrap(err))
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s: not a folder", in)
	}
	outInfo, _ := os.Stat(out)
	var vids []Video
	err = filepath.WalkDir(in, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
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
		vids = append(vids, Video{Rel: filepath.ToSlash(rel), Path: path})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", in, err)
	}
	sort.Slice(vids, func(i, j int) bool { return vids[i].Rel < vids[j].Rel })
	assignOutputs(vids, out)
	return vids, nil
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
type Shard struct{ Index, Count int }

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
	h := fnv.New64a()
	h.Write([]byte(v.Rel))
	return h.Sum64()%uint64(s.Count) == uint64(s.Index)
}

func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

func unwrap(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}
