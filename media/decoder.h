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

// vt_decoder_next decodes the next frame and keeps it as the current one
// (vt_decoder_bgr, vt_decoder_grey and vt_decoder_hold read it) until the
// next call. It returns 1 for a frame, 0 at the end, 2 when the frame's
// size is not the stream's (*w and *h say what it is). *msec is the
// frame's time as OpenCV's CAP_PROP_POS_MSEC gives it.
int vt_decoder_next(vt_decoder *d, double *msec, int *w, int *h);

struct AVFrame;

// vt_decoder_bgr converts p (NULL: the current frame) into dst, the
// stream's rows of step bytes of BGR, as OpenCV does. 0 or an AVERROR.
// Not for two threads at once.
int vt_decoder_bgr(vt_decoder *d, struct AVFrame *p, uint8_t *dst, int step);

// vt_decoder_hold returns a new reference to the current frame, for a
// later vt_decoder_bgr (NULL when out of memory); vt_picture_free frees it.
struct AVFrame *vt_decoder_hold(vt_decoder *d);
void vt_picture_free(struct AVFrame *p);

// vt_decoder_grey writes the current frame's luma into dst (rows of step
// bytes) as the grey OpenCV's BGR-to-grey gives of the converted frame,
// give or take rounding; 0 when the frame has no 8-bit luma plane.
int vt_decoder_grey(vt_decoder *d, uint8_t *dst, int step);

void vt_decoder_free(vt_decoder *d);

// vt_set_log_level sets libav's log level (av_log_set_level).
void vt_set_log_level(int level);

#endif
