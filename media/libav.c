#include "libav.h"
#include "libav_shared.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/pixdesc.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Messages are captured per thread: libavformat logs on the calling thread
// while it reads a header and probes streams (find_stream_info opens its
// decoders single-threaded), and other threads (OpenCV decoding frames
// elsewhere in the process) log as before.
static __thread vt_capture *capturing;

static void log_callback(void *avcl, int level, const char *fmt, va_list vl) {
	vt_capture *c = capturing;
	if (c == NULL) {
		av_log_default_callback(avcl, level, fmt, vl);
		return;
	}
	if (level > AV_LOG_ERROR) {
		return;
	}
	char line[1024];
	int prefix = 1;
	int n = av_log_format_line2(avcl, level, fmt, vl, line, sizeof line, &prefix);
	if (n <= 0) {
		return;
	}
	n = strlen(line);
	if (c->len + n + 1 > c->cap) {
		size_t cap = (c->len + n + 1) * 2;
		char *buf = realloc(c->buf, cap);
		if (buf == NULL) {
			return;
		}
		c->buf = buf;
		c->cap = cap;
	}
	memcpy(c->buf + c->len, line, n);
	c->len += n;
	c->buf[c->len] = 0;
}

void vt_capture_begin(vt_capture *c) {
	memset(c, 0, sizeof *c);
	// OpenCV installs its own callback when it first opens a video; put
	// ours back (it forwards to libav's default, which honours the level
	// OpenCV set).
	av_log_set_callback(log_callback);
	capturing = c;
}

char *vt_capture_end(void) {
	vt_capture *c = capturing;
	capturing = NULL;
	return c->buf;
}

static void copy(char *dst, size_t n, const char *src) {
	snprintf(dst, n, "%s", src ? src : "");
}

// file_url is path as a URL of the file protocol (malloc'd): a name with
// a colon is never taken for another protocol, a network address.
char *vt_file_url(const char *path) {
	size_t n = strlen(path) + 6;
	char *url = malloc(n);
	if (url != NULL) {
		snprintf(url, n, "file:%s", path);
	}
	return url;
}

// open_file opens path, reads its header and probes its streams, as
// ffprobe does before it prints anything.
int vt_open_file(const char *path, AVFormatContext **fc) {
	char *url = vt_file_url(path);
	if (url == NULL) {
		return AVERROR(ENOMEM);
	}
	int err = avformat_open_input(fc, url, NULL, NULL);
	free(url);
	return err < 0 ? err : avformat_find_stream_info(*fc, NULL);
}

int vt_probe(const char *path, vt_file *f, vt_stream *streams, int max) {
	vt_capture c;
	vt_capture_begin(&c);
	AVFormatContext *fc = NULL;
	int err = vt_open_file(path, &fc);
	if (err < 0) {
		f->log = vt_capture_end();
		avformat_close_input(&fc);
		return err;
	}
	copy(f->format, sizeof f->format, fc->iformat->name);
	f->has_duration = fc->duration != AV_NOPTS_VALUE;
	f->duration = f->has_duration ? fc->duration / (double)AV_TIME_BASE : 0;
	AVDictionaryEntry *e = av_dict_get(fc->metadata, "comment", NULL, 0);
	copy(f->comment, sizeof f->comment, e ? e->value : "");
	f->nstreams = fc->nb_streams;
	for (unsigned i = 0; i < fc->nb_streams && (int)i < max; i++) {
		AVStream *st = fc->streams[i];
		AVCodecParameters *par = st->codecpar;
		vt_stream *s = &streams[i];
		memset(s, 0, sizeof *s);
		const char *type = av_get_media_type_string(par->codec_type);
		copy(s->codec_type, sizeof s->codec_type, type ? type : "unknown");
		const AVCodecDescriptor *cd = avcodec_descriptor_get(par->codec_id);
		copy(s->codec_name, sizeof s->codec_name, cd ? cd->name : "unknown");
		if (par->codec_type == AVMEDIA_TYPE_VIDEO) {
			const char *pf = av_get_pix_fmt_name(par->format);
			copy(s->pix_fmt, sizeof s->pix_fmt, pf ? pf : "unknown");
			s->width = par->width;
			s->height = par->height;
		}
		s->avg_num = st->avg_frame_rate.num;
		s->avg_den = st->avg_frame_rate.den;
		s->r_num = st->r_frame_rate.num;
		s->r_den = st->r_frame_rate.den;
		s->tb_num = st->time_base.num;
		s->tb_den = st->time_base.den;
		s->nb_frames = st->nb_frames;
		double tb = av_q2d(st->time_base);
		s->has_start = st->start_time != AV_NOPTS_VALUE;
		s->start_time = s->has_start ? st->start_time * tb : 0;
		s->has_duration = st->duration != AV_NOPTS_VALUE;
		s->duration = s->has_duration ? st->duration * tb : 0;
		e = av_dict_get(st->metadata, "rotate", NULL, 0);
		copy(s->rotate_tag, sizeof s->rotate_tag, e ? e->value : "");
		size_t size = 0;
		const uint8_t *m = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, &size);
		if (m != NULL && size >= 9 * sizeof(int32_t)) {
			s->rotation = av_display_rotation_get((const int32_t *)m);
			s->has_rotation = 1;
		}
	}
	avformat_close_input(&fc);
	f->log = vt_capture_end();
	return 0;
}

// read_video opens path and reads its first video stream's packets to the
// end, without decoding: each packet goes to visit (with its time in
// seconds, or NAN), and f->log gets the error-level messages.
static int read_video(const char *path, vt_file *f, void (*visit)(void *, double), void *arg) {
	vt_capture c;
	vt_capture_begin(&c);
	AVFormatContext *fc = NULL;
	int err = vt_open_file(path, &fc);
	// The first video stream, as ffprobe -select_streams v:0; the
	// demuxer skips the others where it can.
	int first = -1;
	for (unsigned i = 0; err >= 0 && i < fc->nb_streams; i++) {
		if (first < 0 && fc->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_VIDEO) {
			first = i;
		} else {
			fc->streams[i]->discard = AVDISCARD_ALL;
		}
	}
	if (err >= 0 && first < 0) {
		err = AVERROR_STREAM_NOT_FOUND;
	}
	if (err < 0) {
		f->log = vt_capture_end();
		avformat_close_input(&fc);
		return err;
	}
	double tb = av_q2d(fc->streams[first]->time_base);
	AVPacket *pkt = av_packet_alloc();
	err = pkt == NULL ? AVERROR(ENOMEM) : 0;
	while (pkt != NULL && av_read_frame(fc, pkt) >= 0) {
		if (pkt->stream_index == first) {
			visit(arg, pkt->pts == AV_NOPTS_VALUE ? NAN : pkt->pts * tb);
		}
		av_packet_unref(pkt);
	}
	av_packet_free(&pkt);
	avformat_close_input(&fc);
	f->log = vt_capture_end();
	return err;
}

static void count(void *arg, double t) {
	(void)t;
	(*(int64_t *)arg)++;
}

int vt_count_packets(const char *path, vt_file *f, int64_t *packets) {
	*packets = 0;
	return read_video(path, f, count, packets);
}

typedef struct {
	double *t;
	int64_t n, cap;
} times;

static void collect(void *arg, double t) {
	times *ts = arg;
	if (isnan(t)) {
		return;
	}
	if (ts->n == ts->cap) {
		int64_t cap = ts->cap ? 2 * ts->cap : 1024;
		double *p = realloc(ts->t, cap * sizeof *p);
		if (p == NULL) {
			return;
		}
		ts->t = p;
		ts->cap = cap;
	}
	ts->t[ts->n++] = t;
}

int vt_packet_times(const char *path, vt_file *f, double **t, int64_t *n) {
	times ts = {0};
	int err = read_video(path, f, collect, &ts);
	*t = ts.t;
	*n = ts.n;
	return err;
}

void vt_error(int err, char *buf, int len) { av_strerror(err, buf, len); }

// copy_stream adds to oc a stream-copy of ist (ffmpeg -c copy): its
// parameters, clock, rates, disposition and tags.
int vt_copy_stream(AVFormatContext *oc, const AVStream *ist) {
	AVStream *os = avformat_new_stream(oc, NULL);
	if (os == NULL) {
		return AVERROR(ENOMEM);
	}
	int err = avcodec_parameters_copy(os->codecpar, ist->codecpar);
	if (err < 0) {
		return err;
	}
	os->codecpar->codec_tag = 0; // the muxer's own tag for the codec
	os->time_base = ist->time_base;
	os->avg_frame_rate = ist->avg_frame_rate;
	os->r_frame_rate = ist->r_frame_rate;
	os->disposition = ist->disposition;
	return av_dict_copy(&os->metadata, ist->metadata, 0);
}

// write_subtitles turns each cue of the WebVTT file sc into a mov_text
// sample of stream sub of oc, as ffmpeg -c:s mov_text does: the WebVTT
// decoder makes ASS events of the cues, the mov_text encoder samples of
// the events.
static int write_subtitles(AVFormatContext *sc, AVCodecContext *dec, AVCodecContext *enc, AVFormatContext *oc, int sub) {
	AVPacket *in = av_packet_alloc(), *out = av_packet_alloc();
	int err = in && out ? 0 : AVERROR(ENOMEM);
	const int max = 1 << 16;
	uint8_t *buf = av_malloc(max);
	if (buf == NULL) {
		err = AVERROR(ENOMEM);
	}
	AVRational ms = {1, 1000}, tb = oc->streams[sub]->time_base;
	while (err >= 0 && av_read_frame(sc, in) >= 0) {
		AVSubtitle s;
		int got = 0;
		err = avcodec_decode_subtitle2(dec, &s, &got, in);
		av_packet_unref(in);
		if (err < 0 || !got) {
			continue;
		}
		// The event's start and length, as ffmpeg's do_subtitle_out.
		int64_t pts = s.pts + av_rescale_q(s.start_display_time, ms, AV_TIME_BASE_Q);
		int64_t length = s.end_display_time - s.start_display_time;
		s.end_display_time = length;
		s.start_display_time = 0;
		int n = avcodec_encode_subtitle(enc, buf, max, &s);
		avsubtitle_free(&s);
		if (n < 0) {
			err = n;
			break;
		}
		if ((err = av_new_packet(out, n)) < 0) {
			break;
		}
		memcpy(out->data, buf, n);
		out->pts = out->dts = av_rescale_q(pts, AV_TIME_BASE_Q, tb);
		out->duration = av_rescale_q(length, ms, tb);
		out->stream_index = sub;
		err = av_interleaved_write_frame(oc, out);
	}
	av_free(buf);
	av_packet_free(&in);
	av_packet_free(&out);
	return err;
}

// open_subtitles opens the WebVTT file, its decoder and a mov_text encoder
// that takes the decoder's ASS header, and adds the encoder's stream to oc.
static int open_subtitles(const char *vtt, const char *handler, AVFormatContext **sc, AVCodecContext **dec, AVCodecContext **enc,
                          AVFormatContext *oc, int *sub) {
	int err = vt_open_file(vtt, sc);
	if (err < 0) {
		return err;
	}
	if ((*sc)->nb_streams < 1) {
		return AVERROR_STREAM_NOT_FOUND;
	}
	const AVStream *st = (*sc)->streams[0];
	const AVCodec *d = avcodec_find_decoder(st->codecpar->codec_id);
	const AVCodec *e = avcodec_find_encoder(AV_CODEC_ID_MOV_TEXT);
	if (d == NULL || e == NULL) {
		return AVERROR_DECODER_NOT_FOUND;
	}
	if ((*dec = avcodec_alloc_context3(d)) == NULL || (*enc = avcodec_alloc_context3(e)) == NULL) {
		return AVERROR(ENOMEM);
	}
	if ((err = avcodec_parameters_to_context(*dec, st->codecpar)) < 0) {
		return err;
	}
	(*dec)->pkt_timebase = st->time_base;
	if ((err = avcodec_open2(*dec, d, NULL)) < 0) {
		return err;
	}
	(*enc)->time_base = AV_TIME_BASE_Q;
	if ((*dec)->subtitle_header_size > 0) {
		(*enc)->subtitle_header = av_mallocz((*dec)->subtitle_header_size + 1);
		if ((*enc)->subtitle_header == NULL) {
			return AVERROR(ENOMEM);
		}
		memcpy((*enc)->subtitle_header, (*dec)->subtitle_header, (*dec)->subtitle_header_size);
		(*enc)->subtitle_header_size = (*dec)->subtitle_header_size;
	}
	if ((err = avcodec_open2(*enc, e, NULL)) < 0) {
		return err;
	}
	AVStream *os = avformat_new_stream(oc, NULL);
	if (os == NULL) {
		return AVERROR(ENOMEM);
	}
	if ((err = avcodec_parameters_from_context(os->codecpar, *enc)) < 0) {
		return err;
	}
	os->time_base = AV_TIME_BASE_Q; // as ffmpeg sets an encoded subtitle stream
	av_dict_set(&os->metadata, "language", "und", 0);
	av_dict_set(&os->metadata, "handler_name", handler, 0);
	*sub = os->index;
	return 0;
}

int vt_remux_mp4(const char *in, const char *vtt, const char *out, const char *comment, const char *handler, vt_file *f) {
	vt_capture c;
	vt_capture_begin(&c);
	AVFormatContext *ic = NULL, *sc = NULL, *oc = NULL;
	AVCodecContext *dec = NULL, *enc = NULL;
	AVDictionary *opts = NULL;
	AVPacket *pkt = av_packet_alloc();
	int *map = NULL, sub = -1, header = 0;
	int err = pkt ? vt_open_file(in, &ic) : AVERROR(ENOMEM);
	if (err < 0) {
		goto done;
	}
	// The file protocol's URL: +faststart opens the file again by it.
	char *url = vt_file_url(out);
	if (url == NULL) {
		err = AVERROR(ENOMEM);
		goto done;
	}
	err = avformat_alloc_output_context2(&oc, NULL, "mp4", url);
	free(url);
	if (err < 0) {
		goto done;
	}
	// -map 0:v -map 0:a?: every video and audio stream, copied.
	map = av_calloc(ic->nb_streams, sizeof *map);
	if (map == NULL) {
		err = AVERROR(ENOMEM);
		goto done;
	}
	for (unsigned i = 0; i < ic->nb_streams; i++) {
		enum AVMediaType t = ic->streams[i]->codecpar->codec_type;
		map[i] = -1;
		if (t == AVMEDIA_TYPE_VIDEO || t == AVMEDIA_TYPE_AUDIO) {
			map[i] = oc->nb_streams;
			if ((err = vt_copy_stream(oc, ic->streams[i])) < 0) {
				goto done;
			}
		}
	}
	if (vtt != NULL && (err = open_subtitles(vtt, handler, &sc, &dec, &enc, oc, &sub)) < 0) {
		goto done;
	}
	if ((err = av_dict_copy(&oc->metadata, ic->metadata, 0)) < 0) {
		goto done;
	}
	av_dict_set(&oc->metadata, "comment", comment, 0);
	if ((err = avio_open(&oc->pb, oc->url, AVIO_FLAG_WRITE)) < 0) {
		goto done;
	}
	av_dict_set(&opts, "movflags", "+faststart", 0);
	if ((err = avformat_write_header(oc, &opts)) < 0) {
		goto done;
	}
	header = 1;
	if (sub >= 0 && (err = write_subtitles(sc, dec, enc, oc, sub)) < 0) {
		goto done;
	}
	while ((err = av_read_frame(ic, pkt)) >= 0) {
		int o = pkt->stream_index < (int)ic->nb_streams ? map[pkt->stream_index] : -1;
		if (o < 0) {
			av_packet_unref(pkt);
			continue;
		}
		av_packet_rescale_ts(pkt, ic->streams[pkt->stream_index]->time_base, oc->streams[o]->time_base);
		pkt->stream_index = o;
		pkt->pos = -1;
		if ((err = av_interleaved_write_frame(oc, pkt)) < 0) {
			goto done;
		}
	}
	err = err == AVERROR_EOF ? 0 : err;
done:
	if (header) {
		int t = av_write_trailer(oc);
		err = err < 0 ? err : t;
	}
	if (oc != NULL && oc->pb != NULL) {
		avio_closep(&oc->pb);
	}
	avformat_free_context(oc);
	avcodec_free_context(&dec);
	avcodec_free_context(&enc);
	avformat_close_input(&sc);
	avformat_close_input(&ic);
	av_dict_free(&opts);
	av_packet_free(&pkt);
	av_free(map);
	f->log = vt_capture_end();
	return err;
}
