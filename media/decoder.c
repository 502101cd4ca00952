#include "decoder.h"
#include "libav_shared.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libswscale/swscale.h>
#include <stdlib.h>
#include <string.h>

// OpenCV 4.6's cap_ffmpeg_impl.hpp, followed step by step where it decides
// what a frame is (which packets, which errors end the stream, the frame's
// time, the colour conversion), so that the frames are byte for byte the
// ones cv::VideoCapture gave. What it does not follow: OpenCV converts
// every frame into a buffer of its own and then copies it into the Mat;
// here the conversion writes straight into the caller's buffer when that
// is safe (below), which saves a copy of every frame and the page faults
// of a second frame-sized buffer.
struct vt_decoder {
	AVFormatContext *fc;
	AVCodecContext *dec;
	AVStream *st;
	AVPacket *pkt;
	AVFrame *pic;
	struct SwsContext *sws;
	AVFrame *bgr;       // OpenCV's own buffer, for the frames not converted in place
	int w, h;           // the stream's frame size
	int64_t frames;     // frames given out
	int eof;            // the flush packet was sent
};

void vt_set_log_level(int level) { av_log_set_level(level); }

int vt_decoder_open(const char *path, int threads, vt_decoder **out, int *w, int *h, char **log) {
	vt_capture c;
	vt_capture_begin(&c);
	*out = NULL;
	vt_decoder *d = calloc(1, sizeof *d);
	if (d == NULL) {
		*log = vt_capture_end();
		return AVERROR(ENOMEM);
	}
	int err = vt_open_file(path, &d->fc);
	int first = -1;
	for (unsigned i = 0; err >= 0 && i < d->fc->nb_streams; i++) {
		if (first < 0 && d->fc->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_VIDEO) {
			first = i;
		} else {
			d->fc->streams[i]->discard = AVDISCARD_ALL; // OpenCV reads and drops them
		}
	}
	if (err >= 0 && first < 0) {
		err = AVERROR_STREAM_NOT_FOUND;
	}
	const AVCodec *codec = NULL;
	if (err >= 0) {
		d->st = d->fc->streams[first];
		codec = avcodec_find_decoder(d->st->codecpar->codec_id);
		if (codec == NULL) {
			err = AVERROR_DECODER_NOT_FOUND;
		}
	}
	if (err >= 0 && (d->dec = avcodec_alloc_context3(codec)) == NULL) {
		err = AVERROR(ENOMEM);
	}
	if (err >= 0) {
		d->dec->thread_count = threads;
		err = avcodec_parameters_to_context(d->dec, d->st->codecpar);
	}
	if (err >= 0) {
		err = avcodec_open2(d->dec, codec, NULL);
	}
	if (err >= 0) {
		// OpenCV keeps the container's size where the decoder changed it
		// (vp6f).
		if (d->st->codecpar->width) {
			d->dec->width = d->st->codecpar->width;
		}
		if (d->st->codecpar->height) {
			d->dec->height = d->st->codecpar->height;
		}
		d->w = d->dec->width;
		d->h = d->dec->height;
		d->pkt = av_packet_alloc();
		d->pic = av_frame_alloc();
		d->bgr = av_frame_alloc();
		if (d->pkt == NULL || d->pic == NULL || d->bgr == NULL) {
			err = AVERROR(ENOMEM);
		}
	}
	*log = vt_capture_end();
	if (err < 0) {
		vt_decoder_free(d);
		return err;
	}
	*w = d->w;
	*h = d->h;
	*out = d;
	return 0;
}

// receive is OpenCV's grabFrame: 1 with a frame in d->pic, 0 at the end.
static int receive(vt_decoder *d) {
	int64_t nb = d->st->nb_frames;
	if (nb > 0 && d->frames > nb) {
		return 0; // OpenCV stops one frame past the container's count
	}
	if (avcodec_receive_frame(d->dec, d->pic) >= 0) {
		return 1;
	}
	int errs = 0;
	for (;;) {
		av_packet_unref(d->pkt);
		int ret = av_read_frame(d->fc, d->pkt);
		if (ret == AVERROR(EAGAIN)) {
			continue;
		}
		if (ret < 0) {
			// The end, or a read error (a cut file), which OpenCV meets as
			// an empty packet: the decoder gives out what it holds.
			av_packet_unref(d->pkt);
			if (d->eof) {
				return 0;
			}
			d->eof = 1;
		} else if (d->pkt->stream_index != d->st->index) {
			continue;
		}
		if (avcodec_send_packet(d->dec, d->eof ? NULL : d->pkt) < 0) {
			return 0;
		}
		ret = avcodec_receive_frame(d->dec, d->pic);
		if (ret >= 0) {
			return 1;
		}
		if (ret != AVERROR(EAGAIN) && ++errs > (1 << 9)) {
			return 0;
		}
		if (ret == AVERROR_EOF) {
			return 0;
		}
	}
}

int vt_decoder_next(vt_decoder *d, double *msec, int *w, int *h) {
	if (!receive(d)) {
		return 0;
	}
	AVFrame *p = d->pic;
	d->frames++;
	int64_t pts = p->pts != AV_NOPTS_VALUE && p->pts != 0 ? p->pts : p->pkt_dts;
	int64_t start = d->st->start_time == AV_NOPTS_VALUE ? 0 : d->st->start_time;
	*msec = pts == AV_NOPTS_VALUE ? 0 : (double)(pts - start) * av_q2d(d->st->time_base) * 1000;
	*w = p->width;
	*h = p->height;
	if (p->width != d->w || p->height != d->h) {
		return 2;
	}
	return 1;
}

int vt_decoder_bgr(vt_decoder *d, struct AVFrame *p, uint8_t *dst, int step) {
	if (p == NULL) {
		p = d->pic;
	}
	// OpenCV's conversion (bicubic, to BGR24), but at the frame's own
	// size: OpenCV sets swscale up for the coded size (1088 rows for
	// 1080p H.264) and converts the frame's rows into it, and where
	// swscale's general path (4:4:4, 10 bits) needs the rows beyond the
	// frame's last to finish it, OpenCV's last rows are whatever its buffer
	// held. For 4:2:0 frames with an even height both take swscale's
	// unscaled converter, and the bytes are the same.
	if (d->sws == NULL) {
		d->sws = sws_getCachedContext(NULL, d->w, d->h, p->format, d->w, d->h, AV_PIX_FMT_BGR24, SWS_BICUBIC, NULL, NULL, NULL);
		if (d->sws == NULL) {
			return AVERROR(EINVAL);
		}
	}
	// Straight into dst where that converter (the same code either way)
	// neither reads nor writes past the frame's width and every row
	// starts aligned: otherwise into a buffer as OpenCV's, and copied.
	int in_place = (p->format == AV_PIX_FMT_YUV420P || p->format == AV_PIX_FMT_YUVJ420P) &&
		d->w % 32 == 0 && d->h % 2 == 0 && step == d->w * 3 && ((uintptr_t)dst & 31) == 0;
	if (in_place) {
		uint8_t *planes[4] = {dst, NULL, NULL, NULL};
		int strides[4] = {step, 0, 0, 0};
		sws_scale(d->sws, (const uint8_t *const *)p->data, p->linesize, 0, p->height, planes, strides);
		return 0;
	}
	if (d->bgr->data[0] == NULL) {
		d->bgr->format = AV_PIX_FMT_BGR24;
		d->bgr->width = d->w;
		d->bgr->height = d->h;
		if (av_frame_get_buffer(d->bgr, 32) < 0) {
			return AVERROR(ENOMEM);
		}
	}
	sws_scale(d->sws, (const uint8_t *const *)p->data, p->linesize, 0, p->height, d->bgr->data, d->bgr->linesize);
	for (int y = 0; y < d->h; y++) {
		memcpy(dst + (size_t)y * step, d->bgr->data[0] + (size_t)y * d->bgr->linesize[0], (size_t)d->w * 3);
	}
	return 0;
}

struct AVFrame *vt_decoder_hold(vt_decoder *d) { return av_frame_clone(d->pic); }

void vt_picture_free(struct AVFrame *p) { av_frame_free(&p); }

// stretch maps n video-range luma samples to 0-255 (vt_decoder_grey).
__attribute__((optimize("O3"))) static void stretch(const uint8_t *restrict src, uint8_t *restrict out, int n) {
	for (int x = 0; x < n; x++) {
		uint16_t v = src[x] > 16 ? src[x] - 16 : 0;
		uint16_t g = (uint16_t)(v * 149) >> 7;
		out[x] = g > 255 ? 255 : (uint8_t)g;
	}
}

int vt_decoder_grey(vt_decoder *d, uint8_t *dst, int step) {
	AVFrame *p = d->pic;
	int full;
	switch (p->format) {
	case AV_PIX_FMT_YUVJ420P:
	case AV_PIX_FMT_YUVJ422P:
	case AV_PIX_FMT_YUVJ444P:
	case AV_PIX_FMT_YUVJ440P:
	case AV_PIX_FMT_GRAY8:
		full = 1;
		break;
	case AV_PIX_FMT_YUV420P:
	case AV_PIX_FMT_YUV422P:
	case AV_PIX_FMT_YUV444P:
	case AV_PIX_FMT_YUV440P:
	case AV_PIX_FMT_YUV411P:
	case AV_PIX_FMT_YUV410P:
	case AV_PIX_FMT_NV12:
	case AV_PIX_FMT_NV21:
		// Video range whatever the frame's color_range says: vt_decoder_bgr
		// (OpenCV's conversion) does not tell swscale, which takes the
		// range from the format alone (full range only for the J ones).
		full = 0;
		break;
	default:
		return 0; // no 8-bit luma plane: the caller greys the BGR frame
	}
	// The grey that OpenCV's BGR-to-grey gives of the converted frame is
	// the luma stretched from video range (16-235) to 0-255: the
	// converter's chroma terms cancel in 0.299 R + 0.587 G + 0.114 B.
	// (y - 16) * 149 / 128 is 255/219 within 0.03%, rounded down as
	// swscale's fixed-point converter leaves it (on the Hamilton clip 0.7
	// of a level off on average, against 1.1 rounded), and in 16 bits
	// gcc vectorises it: a lookup table cost more than OpenCV's greying of
	// the BGR frame.
	for (int y = 0; y < d->h; y++) {
		const uint8_t *src = p->data[0] + (size_t)y * p->linesize[0];
		uint8_t *out = dst + (size_t)y * step;
		if (full) {
			memcpy(out, src, (size_t)d->w);
			continue;
		}
		stretch(src, out, d->w);
	}
	return 1;
}

void vt_decoder_free(vt_decoder *d) {
	if (d == NULL) {
		return;
	}
	sws_freeContext(d->sws);
	av_frame_free(&d->bgr);
	av_frame_free(&d->pic);
	av_packet_free(&d->pkt);
	avcodec_free_context(&d->dec);
	avformat_close_input(&d->fc);
	free(d);
}
