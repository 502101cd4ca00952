// Package people turns a run's tracks into people: strangers grouped into
// clusters, a timeline per person, WebVTT subtitles (also muxed into the
// MP4 as a mov_text stream), a self-contained review page, and the lookups
// behind `vidtag enroll` and `vidtag find`.
//
// It works in two steps.
//
//  1. During a run, Collector (a pipeline stage placed after the sidecar)
//     keeps, for every track, its track-level descriptor (the mean of every
//     descriptor the track had) and its best face crop. At the end the run
//     writes them beside its outputs: NAME.people.json (0600: descriptors
//     are biometric) and NAME.faces/track-N.jpg.
//  2. After the runs, Unify (an output folder: batch, merge) or UnifyFiles
//     (the people files of one annotate run) clusters every stranger track
//     of every video together, deterministically, and rewrites only the
//     small files: the sidecars' "cluster", the reports' "people", the
//     .vtt, the .html pages and index.html, and remuxes the MP4 (stream
//     copy) with the subtitle stream. Every file is written under a
//     temporary name and renamed into place; a file whose bytes would not
//     change is not touched, so running it again is a no-op.
//
// Clusters are decided after the videos are done because batch runs videos
// in parallel and in shards on several machines: an id that is the same
// across a whole run can only be given once every video has been seen.
package people
