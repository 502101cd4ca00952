package settings

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"go.uber.org/zap"

	"github.com/vidtag/vidtag/annotate"
	"github.com/vidtag/vidtag/blur"
	"github.com/vidtag/vidtag/gallery"
	"github.com/vidtag/vidtag/models"
)

// formatVersion changes when vidtag's outputs change for the same settings
// (a new tracker, say), so batch re-runs redo older outputs.
const formatVersion = "vidtag-4" // 2: faces carry "score"; 3: the identity decision (margin, crowd); 4: strangers' "cluster", people files, VTT, review pages

// Digest identifies everything that changes a run's outputs: the tagging
// and encoding settings, whether the video is written at all (sidecarOnly),
// the known faces (a fingerprint of their folder, gallery.Fingerprint) and
// the models (models.Digest). Workers, log and stats settings are left out:
// they change speed and diagnostics, not results.
//
// Batch compares it with the digest in the reports of earlier runs, so its
// value for given settings must never change by accident: a new digest
// redoes every video (settings_test pins it).
func (s Settings) Digest(sidecarOnly bool, knownFingerprint, modelsDigest string) string {
	// The order and types below are the digest's: DetectPixels in pixels,
	// the look-ahead as a Duration string. The false after Subtitles was
	// "a people file is written": batch took the digest before it named
	// each video's people file, so it was always false.
	v := []any{formatVersion, s.Detector, s.Tolerance, s.DetectEvery, s.DescribeEvery, s.MinFace, s.DetectMP * 1e6, s.Lookahead.String(),
		s.CutThreshold, s.MaxMisses, s.JPEGQuality, s.Preset, s.CRF, sidecarOnly, s.Subtitles, false, knownFingerprint, modelsDigest}
	// A blurred video is another output; with no blur (or no video to
	// blur) the digest is what it was, so earlier outputs stay complete.
	if p := s.BlurPolicy(); p.On() && !sidecarOnly {
		style, _ := blur.ParseStyle(s.BlurStyle)
		v = append(v, "blur", p.String(), style.String(), s.BlurLabels)
	}
	b, _ := json.Marshal(v)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// BatchTag is the tagging options batch (and merge --input, which must
// agree with it) gives every video, with Settings set to their digest,
// which tells a complete output from a stale one. With sidecarOnly no
// video is written, so the settings that only shape the video (blur,
// preset, crf) do nothing: said once in log, and blur is left out.
func (s Settings) BatchTag(sidecarOnly bool, log *zap.Logger) (annotate.Options, error) {
	known := "none"
	if s.Known != "" {
		var err error
		if known, err = gallery.Fingerprint(s.Known); err != nil {
			return annotate.Options{}, err
		}
	}
	if sidecarOnly {
		// Said once here, not once per video.
		if s.BlurPolicy().On() {
			log.Warn("--blur does nothing with --sidecar-only: no video is written, so nothing is blurred", zap.String("blur", s.BlurPolicy().String()))
			s.Blur = blur.Policy{}.String()
		}
		if d := Defaults(); s.Preset != d.Preset || s.CRF != d.CRF {
			log.Warn("--preset and --crf do nothing with --sidecar-only: no video is written", zap.String("preset", s.Preset), zap.Int("crf", s.CRF))
		}
	}
	tag := s.Annotate()
	tag.SidecarOnly = sidecarOnly
	tag.Settings = s.Digest(sidecarOnly, known, models.Digest())
	return tag, nil
}
