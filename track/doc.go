// Package track follows faces across frames and gives each track one
// identity, so labels do not flicker from frame to frame.
//
// The detector runs on keyframes only; between them a motion model (optical
// flow, in package stages) moves each track's box. At a keyframe, detections
// are associated with tracks by IoU; a detection nobody claims starts a
// track, a track nobody detects coasts on motion for a while (the detector
// misses profiles and 3/4 views that the tracker can still follow) and is
// dropped after MaxMisses keyframes or when motion is lost.
//
// Identity: each detection's descriptor is added to its track, and the
// track's label is the gallery match of the mean descriptor. Averaging
// embeddings of one face cancels per-frame noise, so a single stray match
// cannot flip a name, and a face whose per-frame distance wavers around the
// tolerance gets one stable answer. Hysteresis keeps a name until the mean
// drifts clearly past the tolerance.
//
// Nothing here touches pixels or cgo; it is plain bookkeeping.
package track
