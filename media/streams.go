package media

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
)

// Streams is what a container holds, as checking an MP4 needs it: each
// stream's kind, frame count and duration as the container states them,
// and the file's tags.
type Streams struct {
	Streams []struct {
		CodecType string `json:"codec_type"`
		NbFrames  string `json:"nb_frames"`
		Duration  string `json:"duration"`
	} `json:"streams"`
	Format struct {
		Tags map[string]string `json:"tags"`
	} `json:"format"`
}

// Count is how many streams of a kind ("video", "audio", "subtitle") the
// file has, and the first one's frame count.
func (s *Streams) Count(kind string) (n int, frames string) {
	for _, st := range s.Streams {
		if st.CodecType == kind {
			n++
			if n == 1 {
				frames = st.NbFrames
			}
		}
	}
	return n, frames
}

// Comment is the file's "comment" tag.
func (s *Streams) Comment() string { return s.Format.Tags["comment"] }

// probeStreams runs ffprobe on path; warnings is what it said on stderr
// (a missing moov atom, a cut mdat: a file that is not whole).
func probeStreams(ctx context.Context, path string) (s *Streams, warnings string, err error) {
	cmd := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-show_entries", "stream=codec_type,nb_frames,duration:format_tags=comment",
		"-of", "json", "--", path)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	warnings = strings.TrimSpace(stderr.String())
	if err != nil {
		return nil, warnings, fmt.Errorf("ffprobe: %v", err)
	}
	s = &Streams{}
	if err := json.Unmarshal(stdout.Bytes(), s); err != nil {
		return nil, warnings, fmt.Errorf("ffprobe: %v", err)
	}
	return s, warnings, nil
}

// probedFiles remembers what this process's probes found, per path, with
// the file they found it in.
var probedFiles sync.Map // path -> probedFile

type probedFile struct {
	file os.FileInfo
	s    *Streams
}

// Remember records that path, as it is now, holds s: a later ProbeStreams
// of the same file (same inode, size and modification time) needs no
// ffprobe. The writer remembers each MP4 it checked and put in place.
func Remember(path string, s *Streams) {
	if fi, err := os.Stat(path); err == nil && s != nil {
		probedFiles.Store(path, probedFile{fi, s})
	}
}

// ProbeStreams reads path's streams with ffprobe, unless this process
// already did for this very file (see Remember): annotate checks the MP4 it
// wrote, and the people step, which adds the subtitles next, would
// otherwise probe the same bytes again (0.17 s of ffprobe's start-up).
func ProbeStreams(ctx context.Context, path string) (*Streams, error) {
	if v, ok := probedFiles.Load(path); ok {
		p := v.(probedFile)
		if fi, err := os.Stat(path); err == nil && os.SameFile(fi, p.file) && fi.Size() == p.file.Size() && fi.ModTime().Equal(p.file.ModTime()) {
			return p.s, nil
		}
		probedFiles.Delete(path)
	}
	s, _, err := probeStreams(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}
