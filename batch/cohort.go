package batch

import (
	"context"

	"go.uber.org/zap"

	"github.com/vidtag/vidtag/annotate"
	"github.com/vidtag/vidtag/gallery"
	"github.com/vidtag/vidtag/identity"
)

// recheck applies the batch's crowd. Within a video, a face that is about
// as close to a stranger of that video as to a known person is not named
// (package identity). A batch knows more strangers: every unnamed track of
// its other videos. Once every video is tagged, each video's named tracks
// (from its track file) are checked against the strangers of all the other
// videos of the run; a video where one of them would lose its name is
// tagged again with those strangers in its crowd from the first frame.
//
// It is deterministic: the strangers come from the first pass over every
// video, in path order, whatever --jobs did. A video's report and track
// file record the digest of the cohort it was checked with, so a re-run
// over a complete folder redoes nothing. With --shard, the cohort is the
// shard's videos. Renames are rare (only a name the wider crowd revokes),
// so the second pass costs nothing when the names hold.
func recheck(ctx context.Context, opt Options, env *envOnce, vids []Video, results []VideoResult, done []bool, log *zap.Logger, frames func(int)) {
	files := make([]*annotate.TrackFile, len(vids))
	for i, v := range vids {
		if !done[i] || (results[i].Status != StatusOK && results[i].Status != StatusSkipped) {
			continue
		}
		f, err := annotate.ReadTrackFile(v.Tracks())
		if err != nil {
			log.Warn("track file unreadable: the video's names are not checked against the batch's strangers", zap.String("input", v.Rel), zap.Error(err))
			continue
		}
		files[i] = f
	}
	strangers := make([][]gallery.Descriptor, len(vids))
	for i, f := range files {
		if f == nil {
			continue
		}
		for _, t := range f.Tracks {
			if !t.LocalKnown && t.Observations > 0 {
				strangers[i] = append(strangers[i], t.Mean)
			}
		}
	}
	var known *identity.Known
	var rule identity.Rule
	for i, f := range files {
		if f == nil || ctx.Err() != nil {
			continue
		}
		var cohort []gallery.Descriptor
		for j := range vids {
			if j != i {
				cohort = append(cohort, strangers[j]...)
			}
		}
		if f.Cohort == annotate.CohortDigest(cohort) || len(cohort) == 0 {
			continue // checked with exactly these strangers, or none to check with
		}
		var named []annotate.TrackRecord
		for _, t := range f.Tracks {
			if t.Known {
				named = append(named, t)
			}
		}
		if len(named) == 0 {
			continue // nobody to un-name
		}
		if known == nil {
			e, err := env.get()
			if err != nil {
				log.Warn("cannot check names against the batch's strangers", zap.Error(err))
				return
			}
			tol, _ := annotate.Tolerance(opt.Tag.Tolerance, e.Gallery)
			known, rule = identity.FromGallery(e.Gallery), identity.DefaultRule(tol)
		}
		var revoked []string
		for _, t := range named {
			if !known.Decide(t.Mean, cohort, rule).Known {
				revoked = append(revoked, t.Label)
			}
		}
		if len(revoked) == 0 {
			continue
		}
		log.Info("names revoked by the batch's strangers: tagging again", zap.String("input", vids[i].Rel), zap.Strings("names", revoked), zap.Int("strangers", len(cohort)))
		r, cut := runOne(ctx, opt, env, vids[i], log, frames, cohort)
		if cut {
			return
		}
		r.Rechecked = true
		results[i] = r
	}
}
