// Package stages holds the steps of vidtag's pipelines, one file each, and
// the Frame that flows through them.
//
// A *Frame owns its Mat: whoever holds the frame may read and draw on it, and
// the pipeline runner releases it exactly once (Frame.Release). Results ride
// on the frame (keyframe flag, JPEG, detections, tracked faces) instead of
// travelling on side channels. Per-worker state that is not safe to share
// (a go-face Recognizer, a scratch Mat) lives in the stage value, one per
// worker.
package stages
