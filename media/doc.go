// Package media reads what a video file holds and writes MP4s, with the
// real tools for what Go code should not redo: FFmpeg's libavformat, in
// this process (libav.c: ffprobe's library, without ffprobe's 0.2 s
// start-up), to tell a video from a file that merely opens and to add the
// subtitle stream, and libavcodec's libx264 (encoder.c) to encode H.264
// with the input's audio, as an ffmpeg process would, without piping it
// every frame.
//
// Probe must succeed before a file is decoded: OpenCV happily opens a PNG
// renamed .mp4 and decodes a truncated MP4 up to where it breaks, so "it
// opened" never means "it is a video". Writer encodes raw frames into a
// browser-playable MP4 under a temporary name and renames it into place only
// on Commit; Abort (or a crash) never leaves a file under the final name.
package media
