// The part of libavformat that media reads a file's streams with: what
// ffprobe prints, from the same library, without starting a process.
#ifndef VIDTAG_LIBAV_H
#define VIDTAG_LIBAV_H

#include <stdint.h>

typedef struct {
	char codec_type[16]; // "video", "audio", "subtitle", "data", "attachment", "unknown"
	char codec_name[64];
	char pix_fmt[64];    // video only
	int width, height;
	int avg_num, avg_den, r_num, r_den, tb_num, tb_den;
	int64_t nb_frames;   // 0: the container does not say
	double start_time;   // seconds
	int has_start;
	double duration;     // seconds
	int has_duration;
	char rotate_tag[16]; // the old "rotate" tag, "" if none
	double rotation;     // display matrix, degrees counter-clockwise
	int has_rotation;
} vt_stream;

typedef struct {
	char format[128];    // the demuxer's name, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
	double duration;     // seconds, of the whole file
	int has_duration;
	char comment[256];   // the file's "comment" tag
	int nstreams;        // streams in the file (at most max are filled)
	char *log;           // error-level messages (malloc'd, may be NULL)
} vt_file;

// vt_probe opens path, reads its header and probes its streams as ffprobe
// does, filling at most max streams. It returns 0, or a negative AVERROR
// (then vt_error describes it). Messages libav logs at error level while
// it does are returned in f->log, free'd by the caller.
int vt_probe(const char *path, vt_file *f, vt_stream *streams, int max);

// vt_count_packets reads, without decoding, the first video stream's
// packets to the file's end: *packets is how many there were, and f->log
// the error-level messages (a demuxer that stopped early says so).
int vt_count_packets(const char *path, vt_file *f, int64_t *packets);

// vt_packet_times lists the presentation time, in seconds, of each of the
// first video stream's packets that has one, in file order (*t is
// malloc'd, free'd by the caller).
int vt_packet_times(const char *path, vt_file *f, double **t, int64_t *n);

// vt_remux_mp4 writes the MP4 out from the MP4 in: its video and audio
// streams copied and, when vtt is not NULL, a mov_text subtitle stream of
// the WebVTT file's cues (tagged language "und" and handler), with the
// file's "comment" tag set and the index in front (ffmpeg -c copy -c:s
// mov_text -movflags +faststart).
int vt_remux_mp4(const char *in, const char *vtt, const char *out, const char *comment, const char *handler, vt_file *f);

void vt_error(int err, char *buf, int len);

#endif
