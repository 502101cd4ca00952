// A file's first video stream decoded to BGR, the way OpenCV's FFmpeg
// backend decodes it (cv::VideoCapture), but into the caller's buffer.
#ifndef VIDTAG_DECODER_H
#define VIDTAG_DECODER_H

#include <stdint.h>

typedef struct vt_decoder vt_decoder;

// vt_decoder_open opens path's first video stream; *w and *h are its frame
// size. threads is the decoder's thread count. *log gets libav's
// error-level messages (malloc'd, may be NULL).
int vt_decoder_open(const char *path, int threads, vt_decoder **d, int *w, int *h, char **log);

// vt_decoder_next decodes the next frame into dst, *h rows of step bytes
// of BGR. It returns 1 for a frame, 0 at the end, 2 when the frame's size
// is not the stream's (*w and *h say what it is; dst is untouched). *msec
// is the frame's time as OpenCV's CAP_PROP_POS_MSEC gives it.
int vt_decoder_next(vt_decoder *d, uint8_t *dst, int step, double *msec, int *w, int *h);

void vt_decoder_free(vt_decoder *d);

// vt_set_log_level sets libav's log level (av_log_set_level).
void vt_set_log_level(int level);

#endif
