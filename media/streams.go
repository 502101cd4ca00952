package media

import (
	"context"
	"fmt"
	"os"
	"sync"
)

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

// probeStreams reads path's streams; warnings is what libav logged at
// error level on the way (a missing moov atom, a cut mdat: a file that is
// not whole).
func probeStreams(ctx context.Context, path string) (s *Streams, warnings string, err error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	s, err = probeFile(path)
	if err != nil {
		return nil, s.Log, fmt.Errorf("probe: %v", err)
	}
	return s, s.Log, nil
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
