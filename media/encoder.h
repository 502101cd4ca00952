// The MP4 writer's encoder: libx264 and the mp4 muxer through libavcodec
// and libavformat, in process, as `ffmpeg -f matroska -i pipe:0 -i AUDIO
// -map 0:v:0 -map 1:a:0 -c:v libx264 -preset P -crf C -pix_fmt yuv420p
// -movflags +faststart` encodes the frames it is piped.
#ifndef VIDTAG_ENCODER_H
#define VIDTAG_ENCODER_H

#include <stdint.h>

typedef struct {
	const char *path;       // the file to write (created or truncated)
	int width, height;      // of the frames handed over
	int bgr;                // 1: packed BGR frames; 0: planar I420 (even sides)
	int fps_num, fps_den;   // nominal frame rate (x264's rate control)
	const char *preset;     // x264 preset
	int crf;
	const char *x264_params; // NULL, or x264 options (ffmpeg's -x264-params)
	int threads;            // x264 threads, 0: x264's choice
	int timescale;          // video track clock (ticks per second), 0: the muxer's
	double start;           // seconds added to every frame's time
	const char *audio_from; // NULL, or a file whose first audio stream is kept
	int audio_copy;         // 1: copy it; 0: re-encode it to AAC at 160 kb/s
} vt_encoder_opts;

typedef struct vt_encoder vt_encoder;

// Each call returns 0 or a negative AVERROR; *log then holds what libav
// logged at error level during the call (malloc'd, may be NULL).

// vt_encoder_open creates the file and writes its header.
int vt_encoder_open(const vt_encoder_opts *o, vt_encoder **e, char **log);

// vt_encoder_write encodes one frame (width*height*3 bytes of BGR, or
// width*height*3/2 of I420) at pts_us microseconds from the stream's
// start. The pixels are copied before it returns.
int vt_encoder_write(vt_encoder *e, const uint8_t *pix, int64_t pts_us, char **log);

// vt_encoder_finish drains the encoder, writes the rest of the audio and
// the index, and closes the file.
int vt_encoder_finish(vt_encoder *e, char **log);

// vt_encoder_free frees e (after finish, or instead of it: the file is
// then left incomplete for the caller to remove).
void vt_encoder_free(vt_encoder *e);

#endif
