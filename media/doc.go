// Package media wraps ffprobe and ffmpeg, the real tools for what Go code
// should not redo: telling a video from a file that merely opens, and
// encoding H.264 MP4 with the input's audio.
//
// Probe must succeed before a file is decoded: OpenCV happily opens a PNG
// renamed .mp4 and decodes a truncated MP4 up to where it breaks, so "it
// opened" never means "it is a video". Writer encodes raw BGR frames into a
// browser-playable MP4 under a temporary name and renames it into place only
// on Commit; Abort (or a crash) never leaves a file under the final name.
package media
