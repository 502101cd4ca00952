package batch

import (
	"context"
	"fmt"
	"strings"

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
// shard's videos; RecheckAll (vidtag merge --input) then applies the
// whole folder's. Renames are rare (only a name the wider crowd revokes),
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

// RecheckAll applies the crowd of a whole output folder, across the
// shards that wrote it: every video under opt.In whose outputs in opt.Out
// are complete for opt.Tag (the shards' settings) has its names checked
// against the strangers of all the others, and is tagged again where one
// would lose its name. It returns the videos tagged again. Shard reports
// are left as they are: a video's own report records the strangers it was
// checked with (its "cohort").
func RecheckAll(ctx context.Context, opt Options) ([]string, error) {
	log := opt.Log
	if log == nil {
		log = zap.NewNop()
	}
	if err := CheckFolders(opt.In, opt.Out); err != nil {
		return nil, err
	}
	vids, _, err := discover(opt.In, opt.Out)
	if err != nil {
		return nil, err
	}
	results := make([]VideoResult, len(vids))
	done := make([]bool, len(vids))
	missing := 0
	for i, v := range vids {
		results[i].Input = v.Rel
		if _, ok := complete(v, videoTag(opt, v)); ok {
			results[i].Status, done[i] = StatusSkipped, true
		} else {
			missing++
		}
	}
	if missing > 0 {
		log.Warn("videos without complete outputs for these settings are left out of the crowd check", zap.Int("videos", missing))
	}
	recheck(ctx, opt, lazyEnv(opt.Env), vids, results, done, log, func(int) {})
	var redone, failed []string
	for i, r := range results {
		switch {
		case r.Rechecked && r.Status == StatusOK:
			redone = append(redone, vids[i].Rel)
		case r.Status == StatusFailed:
			failed = append(failed, vids[i].Rel+": "+r.Error)
		}
	}
	if ctx.Err() != nil {
		return redone, ctx.Err()
	}
	if len(failed) > 0 {
		return redone, fmt.Errorf("tagging again with the batch's strangers failed: %s", strings.Join(failed, "; "))
	}
	return redone, nil
}
