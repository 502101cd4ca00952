package annotate

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"

	"github.com/vidtag/vidtag/gallery"
	"github.com/vidtag/vidtag/internal/outfile"
	"github.com/vidtag/vidtag/track"
)

// TrackFile is a run's private record of each track's identity evidence:
// the mean descriptor and the decision. batch reads it to check a video's
// names against the strangers of the batch's other videos. Descriptors are
// biometric data: the file is written 0600 and never leaves the output
// folder.
type TrackFile struct {
	FormatVersion string        `json:"formatVersion"`
	Cohort        string        `json:"cohort,omitempty"` // CohortDigest of the cohort the names were decided with
	Tracks        []TrackRecord `json:"tracks"`
}

// TrackRecord is one track in a TrackFile.
type TrackRecord struct {
	Track        int                `json:"track"`
	Label        string             `json:"label"`
	Known        bool               `json:"known"`
	LocalKnown   bool               `json:"local_known"` // named by its own video's evidence (track.Summary)
	Observations int                `json:"observations"`
	Mean         gallery.Descriptor `json:"mean"`
}

const trackFileVersion = "vidtag-tracks-1"

// DefaultTrackFile is OUTPUT.tracks.json beside an output base.
func DefaultTrackFile(base string) string { return base + ".tracks.json" }

func newTrackFile(sums []track.Summary, cohort string) *TrackFile {
	f := &TrackFile{FormatVersion: trackFileVersion, Cohort: cohort, Tracks: []TrackRecord{}}
	for _, s := range sums {
		f.Tracks = append(f.Tracks, TrackRecord{Track: s.ID, Label: s.Decision.Label, Known: s.Decision.Known, LocalKnown: s.LocalKnown, Observations: s.Observations, Mean: s.Mean})
	}
	return f
}

func writeTrackFile(path string, f *TrackFile) error {
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	if err := outfile.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("%s: %w", path, outfile.UnwrapPathError(err))
	}
	return nil
}

// ReadTrackFile reads a run's track file.
func ReadTrackFile(path string) (*TrackFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f TrackFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if f.FormatVersion != trackFileVersion {
		return nil, fmt.Errorf("%s: format %q, want %q", path, f.FormatVersion, trackFileVersion)
	}
	return &f, nil
}

// CohortDigest identifies a cohort (its descriptors, in order): "" for
// none.
func CohortDigest(cohort []gallery.Descriptor) string {
	if len(cohort) == 0 {
		return ""
	}
	h := sha256.New()
	var b [4]byte
	for _, d := range cohort {
		for _, v := range d {
			binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
			h.Write(b[:])
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
