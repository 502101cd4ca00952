// Package stages holds the steps of vidtag's pipelines, one file each, and
// the Frame that flows through them.
//
// A *Frame owns its Mat: whoever holds the frame may read and draw on it, and
// the pipeline runner releases it exactly once (Frame.Release). Results ride
// on the frame (keyframe flag, JPEG, detections, tracked faces) instead of
// travelling on side channels. State that is not safe to share lives with
// one owner: a scratch Mat in its stage value, a detector engine in the
// pool that lends it to one worker at a time (the CNN engines of one pool
// each own their network and share one set of dlib models, which takes
// their calls in turn: package recog). annotate and live run these same steps (live detects asynchronously,
// AsyncDetect, and tracks causally, Track.ObserveAt).
package stages
