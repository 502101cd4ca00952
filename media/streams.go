package media

import (
	"context"
	"fmt"
	"os"
	"sync"
)

// Streams is what a container holds, as checking an MP4 needs it: each
// stream's kind, frame count and duration as the container states them,
// and the file's "comment" tag.
type Streams struct {
	Streams []StreamCount
	comment string
}

// StreamCount is one stream of Streams.
type StreamCount struct {
	CodecType string  // "video", "audio", "subtitle"...
	NbFrames  int     // 0: the container does not say
	Duration  float64 // seconds
}

// Count is how many streams of a kind ("video", "audio", "subtitle") the
// file has, and the first one's frame count.
func (s *Streams) Count(kind string) (n int, frames int) {
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
func (s *Streams) Comment() string { return s.comment }

// probeStreams reads path's streams; warnings is what libav logged at
// error level on the way (a missing moov atom, a cut mdat: a file that is
// not whole).
func probeStreams(ctx context.Context, path string) (s *Streams, warnings string, err error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	p, err := probeFile(path)
	if err != nil {
		return nil, p.Log, fmt.Errorf("probe: %v", err)
	}
	s = &Streams{comment: p.Comment}
	for _, st := range p.Streams {
		s.Streams = append(s.Streams, StreamCount{CodecType: st.CodecType, NbFrames: st.NbFrames, Duration: st.Duration})
	}
	return s, p.Log, nil
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
// second probe. The writer remembers each MP4 it checked and put in place.
func Remember(path string, s *Streams) {
	if fi, err := os.Stat(path); err == nil && s != nil {
		probedFiles.Store(path, probedFile{fi, s})
	}
}

// ProbeStreams reads path's streams, unless this process
// already did for this very file (see Remember): annotate checks the MP4 it
// wrote, and the people step, which adds the subtitles next, would
// otherwise read the same bytes again.
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
