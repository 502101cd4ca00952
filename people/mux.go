package people

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"github.com/vidtag/vidtag/internal/outfile"
	"github.com/vidtag/vidtag/media"
)

// subtitleTag is the MP4's "comment" tag naming the subtitles it holds,
// so that a re-run can tell, without decoding, that nothing changed.
func subtitleTag(vtt []byte) string {
	if vtt == nil {
		return ""
	}
	s := sha256.Sum256(vtt)
	return "vidtag-subtitles " + hex.EncodeToString(s[:8])
}

// muxSubtitles gives the MP4 at path a mov_text subtitle stream made
// from vtt (nil: none), by a stream copy of its video and audio
// (media.RemuxMP4, in process) into a temporary file that is checked (same streams, same frame count, the
// subtitles there) and renamed over path. An MP4 that already holds these
// subtitles is left alone. It reports whether the file changed.
func muxSubtitles(ctx context.Context, path string, vtt []byte) (bool, error) {
	// Usually no second probe: the writer checked these bytes just before.
	have, err := media.ProbeStreams(ctx, path)
	if err != nil {
		return false, err
	}
	want := subtitleTag(vtt)
	subs, _ := have.Count("subtitle")
	if have.Comment == want && (subs > 0) == (vtt != nil) {
		return false, nil
	}
	if vtt == nil && subs == 0 {
		return false, nil // nothing to add, nothing to remove
	}
	var subFile string
	if vtt != nil {
		f, err := os.CreateTemp(filepath.Dir(path), ".vt-subs-*.vtt")
		if err != nil {
			return false, err
		}
		subFile = f.Name()
		defer os.Remove(subFile)
		_, werr := f.Write(vtt)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return false, werr
		}
	}
	tmp, err := outfile.Create(path, 0o644)
	if err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	defer tmp.Cleanup()
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if err := media.RemuxMP4(path, subFile, tmp.Name(), want, "vidtag people"); err != nil {
		return false, fmt.Errorf("%s: adding the subtitle stream: %v", path, err)
	}
	got, err := media.ProbeStreams(ctx, tmp.Name())
	if err != nil {
		return false, err
	}
	hv, hf := have.Count("video")
	gv, gf := got.Count("video")
	ha, _ := have.Count("audio")
	ga, _ := got.Count("audio")
	gs, _ := got.Count("subtitle")
	if gv != hv || gf != hf || ga != ha || (gs > 0) != (vtt != nil) || got.Comment != want {
		return false, fmt.Errorf("%s: the remux with subtitles did not check out (video %d/%d streams, %d/%d frames; audio %d/%d; subtitles %d); the file is unchanged",
			path, gv, hv, gf, hf, ga, ha, gs)
	}
	if err := tmp.Commit(); err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	media.Remember(path, got)
	return true, nil
}
