// What libav.c shares with encoder.c (not for Go).
#ifndef VIDTAG_LIBAV_SHARED_H
#define VIDTAG_LIBAV_SHARED_H

#include <libavformat/avformat.h>
#include <stddef.h>

// A vt_capture collects what libav logs at error level on this thread,
// between vt_capture_begin and vt_capture_end (which returns the text,
// malloc'd, or NULL).
typedef struct {
	char *buf;
	size_t len, cap;
} vt_capture;

void vt_capture_begin(vt_capture *c);
char *vt_capture_end(void);

// vt_file_url is path as a file: URL (malloc'd).
char *vt_file_url(const char *path);

// vt_open_file opens path and probes its streams, as ffprobe does.
int vt_open_file(const char *path, AVFormatContext **fc);

// vt_copy_stream adds to oc a stream copy of ist (ffmpeg -c copy).
int vt_copy_stream(AVFormatContext *oc, const AVStream *ist);

#endif
