#include "encoder.h"
#include "libav_shared.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/channel_layout.h>
#include <libavutil/mathematics.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct vt_encoder {
	AVFormatContext *oc;
	AVPacket *pkt;  // the video encoder's output
	AVPacket *epkt; // the AAC encoder's: written while pkt waits for the audio before it
	int header; // written, so the trailer is due

	// The video: frames to libx264, as ffmpeg's CLI hands them over.
	AVCodecContext *venc;
	AVStream *vst;
	AVFrame *frame;         // the one picture handed to x264, refilled each time
	int w, h;               // of the frames handed over
	int bgr;
	uint8_t *padded;        // BGR with the black column or row (odd sides)
	struct SwsContext *sws; // BGR to I420
	int64_t offset;         // µs added to each pts: start less the first pts
	int frames;

	// The audio: the first audio stream of ic, copied packet by packet, or
	// decoded, resampled and encoded to AAC. Packets are read ahead and
	// written up to the time of each video packet, so the muxer interleaves
	// the two without holding much of either.
	AVFormatContext *ic;
	AVStream *ist, *ast;
	int64_t in_start;       // ic's start, in ist's time base, taken off its times
	AVPacket *apkt;
	int apending;           // apkt is read and not yet written
	int aeof;
	AVCodecContext *adec, *aenc;
	SwrContext *swr;
	AVAudioFifo *fifo;
	AVFrame *dframe, *eframe;
	int64_t apts;           // the next AAC frame's pts (1/sample rate)
	int apts_set;
};

static int write_packets(vt_encoder *e, AVCodecContext *enc, AVStream *st);

// pump_audio writes the audio packets that start at or before until
// (seconds on the output's clock).
static int pump_audio(vt_encoder *e, double until);

static double seconds(int64_t ts, AVRational tb) { return ts == AV_NOPTS_VALUE ? NAN : ts * av_q2d(tb); }

// The AAC encoder's sample rate and channel layout nearest the input's,
// as ffmpeg's CLI picks them for its resampler.
static int aac_rate(const AVCodec *c, int rate) {
	int best = 0;
	for (const int *r = c->supported_samplerates; r && *r; r++) {
		if (best == 0 || abs(*r - rate) < abs(best - rate)) {
			best = *r;
		}
	}
	return best ? best : rate;
}

static int aac_layout(const AVCodec *c, const AVChannelLayout *in, AVChannelLayout *out) {
	for (const AVChannelLayout *l = c->ch_layouts; l && l->nb_channels; l++) {
		if (!av_channel_layout_compare(l, in)) {
			return av_channel_layout_copy(out, l);
		}
	}
	AVChannelLayout stereo = AV_CHANNEL_LAYOUT_STEREO, mono = AV_CHANNEL_LAYOUT_MONO;
	return av_channel_layout_copy(out, in->nb_channels == 1 ? &mono : &stereo);
}

static int open_audio(vt_encoder *e, const vt_encoder_opts *o) {
	int err = vt_open_file(o->audio_from, &e->ic);
	if (err < 0) {
		return err;
	}
	for (unsigned i = 0; i < e->ic->nb_streams && e->ist == NULL; i++) {
		if (e->ic->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_AUDIO) {
			e->ist = e->ic->streams[i];
		}
	}
	if (e->ist == NULL) {
		return AVERROR_STREAM_NOT_FOUND;
	}
	// ffmpeg's CLI takes an input's start off all its times.
	e->in_start = e->ic->start_time == AV_NOPTS_VALUE ? 0 : av_rescale_q(e->ic->start_time, AV_TIME_BASE_Q, e->ist->time_base);
	if ((e->apkt = av_packet_alloc()) == NULL || (e->epkt = av_packet_alloc()) == NULL) {
		return AVERROR(ENOMEM);
	}
	if (o->audio_copy) {
		if ((err = vt_copy_stream(e->oc, e->ist)) < 0) {
			return err;
		}
		e->ast = e->oc->streams[e->oc->nb_streams - 1];
		return 0;
	}
	const AVCodec *dc = avcodec_find_decoder(e->ist->codecpar->codec_id);
	const AVCodec *ac = avcodec_find_encoder(AV_CODEC_ID_AAC);
	if (dc == NULL || ac == NULL) {
		return AVERROR_DECODER_NOT_FOUND;
	}
	if ((e->adec = avcodec_alloc_context3(dc)) == NULL || (e->aenc = avcodec_alloc_context3(ac)) == NULL) {
		return AVERROR(ENOMEM);
	}
	if ((err = avcodec_parameters_to_context(e->adec, e->ist->codecpar)) < 0) {
		return err;
	}
	e->adec->pkt_timebase = e->ist->time_base;
	if ((err = avcodec_open2(e->adec, dc, NULL)) < 0) {
		return err;
	}
	AVChannelLayout in = {0};
	if (e->adec->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC) {
		av_channel_layout_default(&in, e->adec->ch_layout.nb_channels);
	} else if ((err = av_channel_layout_copy(&in, &e->adec->ch_layout)) < 0) {
		return err;
	}
	e->aenc->sample_fmt = AV_SAMPLE_FMT_FLTP;
	e->aenc->sample_rate = aac_rate(ac, e->adec->sample_rate);
	e->aenc->bit_rate = 160000;
	e->aenc->time_base = (AVRational){1, e->aenc->sample_rate};
	if ((err = aac_layout(ac, &in, &e->aenc->ch_layout)) < 0) {
		av_channel_layout_uninit(&in);
		return err;
	}
	if (e->oc->oformat->flags & AVFMT_GLOBALHEADER) {
		e->aenc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
	}
	if ((err = avcodec_open2(e->aenc, ac, NULL)) < 0) {
		av_channel_layout_uninit(&in);
		return err;
	}
	err = swr_alloc_set_opts2(&e->swr, &e->aenc->ch_layout, e->aenc->sample_fmt, e->aenc->sample_rate,
	                          &in, e->adec->sample_fmt, e->adec->sample_rate, 0, NULL);
	av_channel_layout_uninit(&in);
	if (err < 0 || (err = swr_init(e->swr)) < 0) {
		return err;
	}
	e->fifo = av_audio_fifo_alloc(e->aenc->sample_fmt, e->aenc->ch_layout.nb_channels, e->aenc->frame_size);
	e->dframe = av_frame_alloc();
	e->eframe = av_frame_alloc();
	if (e->fifo == NULL || e->dframe == NULL || e->eframe == NULL) {
		return AVERROR(ENOMEM);
	}
	if ((e->ast = avformat_new_stream(e->oc, NULL)) == NULL) {
		return AVERROR(ENOMEM);
	}
	if ((err = avcodec_parameters_from_context(e->ast->codecpar, e->aenc)) < 0) {
		return err;
	}
	e->ast->time_base = e->aenc->time_base;
	e->ast->disposition = e->ist->disposition;
	return av_dict_copy(&e->ast->metadata, e->ist->metadata, 0);
}

static int open_video(vt_encoder *e, const vt_encoder_opts *o) {
	const AVCodec *c = avcodec_find_encoder_by_name("libx264");
	if (c == NULL) {
		return AVERROR_ENCODER_NOT_FOUND;
	}
	if ((e->venc = avcodec_alloc_context3(c)) == NULL || (e->frame = av_frame_alloc()) == NULL) {
		return AVERROR(ENOMEM);
	}
	// H.264 in 4:2:0 wants even sides: an odd one gets a black column on
	// the right or row at the bottom (ffmpeg -vf pad=W:H:0:0:black).
	int w = o->width + o->width % 2, h = o->height + o->height % 2;
	AVCodecContext *v = e->venc;
	v->width = w;
	v->height = h;
	v->pix_fmt = AV_PIX_FMT_YUV420P;
	// Microseconds, the clock frames come on (ffmpeg's -enc_time_base -1
	// with a Matroska pipe in): a variable frame rate keeps its timing.
	v->time_base = (AVRational){1, 1000000};
	v->framerate = (AVRational){o->fps_num, o->fps_den};
	v->thread_count = o->threads; // 0: x264's own choice, as ffmpeg's "-threads auto"
	if (e->oc->oformat->flags & AVFMT_GLOBALHEADER) {
		v->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
	}
	char crf[16];
	snprintf(crf, sizeof crf, "%d", o->crf);
	AVDictionary *opts = NULL;
	av_dict_set(&opts, "preset", o->preset, 0);
	av_dict_set(&opts, "crf", crf, 0);
	if (o->x264_params != NULL && *o->x264_params) {
		av_dict_set(&opts, "x264-params", o->x264_params, 0);
	}
	int err = avcodec_open2(v, c, &opts);
	av_dict_free(&opts);
	if (err < 0) {
		return err;
	}
	if ((e->vst = avformat_new_stream(e->oc, NULL)) == NULL) {
		return AVERROR(ENOMEM);
	}
	if ((err = avcodec_parameters_from_context(e->vst->codecpar, v)) < 0) {
		return err;
	}
	e->vst->time_base = v->time_base;
	e->vst->avg_frame_rate = v->framerate;
	// One reference-counted picture, refilled for every frame: x264 copies
	// it in at once, so it is writable again by the next one. A picture
	// that is not reference counted would be copied by avcodec_send_frame
	// into a buffer allocated afresh for each frame (fresh pages to fault).
	e->frame->format = v->pix_fmt;
	e->frame->width = w;
	e->frame->height = h;
	if ((err = av_frame_get_buffer(e->frame, 0)) < 0) {
		return err;
	}
	if (o->bgr) {
		e->sws = sws_getContext(w, h, AV_PIX_FMT_BGR24, w, h, AV_PIX_FMT_YUV420P, SWS_BICUBIC, NULL, NULL, NULL);
		if (e->sws == NULL) {
			return AVERROR(ENOMEM);
		}
		if ((w != o->width || h != o->height) && (e->padded = av_mallocz((size_t)w * h * 3)) == NULL) {
			return AVERROR(ENOMEM);
		}
	} else if (w != o->width || h != o->height) {
		return AVERROR(EINVAL); // I420 has even sides
	}
	return 0;
}

int vt_encoder_open(const vt_encoder_opts *o, vt_encoder **out, char **log) {
	vt_capture c;
	vt_capture_begin(&c);
	AVDictionary *opts = NULL;
	vt_encoder *e = *out = calloc(1, sizeof *e);
	int err = e ? 0 : AVERROR(ENOMEM);
	if (err < 0) {
		goto done;
	}
	e->w = o->width;
	e->h = o->height;
	e->bgr = o->bgr;
	e->offset = llround(o->start * 1e6);
	char *url = vt_file_url(o->path); // +faststart opens the file again by it
	if (url == NULL || (e->pkt = av_packet_alloc()) == NULL) {
		free(url);
		err = AVERROR(ENOMEM);
		goto done;
	}
	err = avformat_alloc_output_context2(&e->oc, NULL, "mp4", url);
	free(url);
	if (err < 0 || (err = open_video(e, o)) < 0) {
		goto done;
	}
	if (o->audio_from != NULL && (err = open_audio(e, o)) < 0) {
		goto done;
	}
	av_dict_set(&e->oc->metadata, "encoder", LIBAVFORMAT_IDENT, 0); // as ffmpeg's CLI tags its files
	if ((err = avio_open(&e->oc->pb, e->oc->url, AVIO_FLAG_WRITE)) < 0) {
		goto done;
	}
	av_dict_set(&opts, "movflags", "+faststart", 0);
	if (o->timescale > 0) {
		av_dict_set_int(&opts, "video_track_timescale", o->timescale, 0);
	}
	if ((err = avformat_write_header(e->oc, &opts)) < 0) {
		goto done;
	}
	e->header = 1;
done:
	av_dict_free(&opts);
	*log = vt_capture_end();
	return err;
}

int vt_encoder_write(vt_encoder *e, const uint8_t *pix, int64_t pts_us, char **log) {
	vt_capture c;
	vt_capture_begin(&c);
	AVFrame *f = e->frame;
	int w = f->width, h = f->height;
	int err = av_frame_make_writable(f); // a copy only if the encoder still holds it
	if (err < 0) {
		*log = vt_capture_end();
		return err;
	}
	if (e->bgr) {
		const uint8_t *bgr = pix;
		if (e->padded != NULL) {
			for (int y = 0; y < e->h; y++) {
				memcpy(e->padded + (size_t)y * w * 3, pix + (size_t)y * e->w * 3, (size_t)e->w * 3);
			}
			bgr = e->padded;
		}
		const uint8_t *src[4] = {bgr, NULL, NULL, NULL};
		int sstride[4] = {w * 3, 0, 0, 0};
		sws_scale(e->sws, src, sstride, 0, h, f->data, f->linesize);
	} else {
		// Planar I420, tightly packed: row by row into the picture's
		// (aligned, so maybe wider) lines.
		const uint8_t *plane = pix;
		for (int p = 0; p < 3; p++) {
			int pw = p ? w / 2 : w, ph = p ? h / 2 : h;
			for (int y = 0; y < ph; y++) {
				memcpy(f->data[p] + (size_t)y * f->linesize[p], plane + (size_t)y * pw, pw);
			}
			plane += (size_t)pw * ph;
		}
	}
	if (e->frames == 0) {
		e->offset -= pts_us; // the stream starts at its first frame, as ffmpeg's CLI starts an input
	}
	f->pts = pts_us + e->offset;
	f->pict_type = AV_PICTURE_TYPE_NONE;
	if ((err = avcodec_send_frame(e->venc, f)) >= 0) {
		e->frames++;
		err = write_packets(e, e->venc, e->vst);
	}
	*log = vt_capture_end();
	return err;
}

// write_packets writes what enc has ready to stream st; before each video
// packet, the audio up to its time.
static int write_packets(vt_encoder *e, AVCodecContext *enc, AVStream *st) {
	AVPacket *pkt = st == e->vst ? e->pkt : e->epkt;
	int err;
	while ((err = avcodec_receive_packet(enc, pkt)) >= 0) {
		av_packet_rescale_ts(pkt, enc->time_base, st->time_base);
		pkt->stream_index = st->index;
		if (st == e->vst && e->ist != NULL) {
			int64_t t = pkt->dts != AV_NOPTS_VALUE ? pkt->dts : pkt->pts;
			if ((err = pump_audio(e, seconds(t, st->time_base))) < 0) {
				av_packet_unref(pkt);
				return err;
			}
		}
		if ((err = av_interleaved_write_frame(e->oc, pkt)) < 0) {
			return err;
		}
	}
	return err == AVERROR(EAGAIN) || err == AVERROR_EOF ? 0 : err;
}

// encode_audio encodes the resampled audio in whole AAC frames; at the
// end (flush), the rest and the encoder's delay.
static int encode_audio(vt_encoder *e, int flush) {
	AVCodecContext *a = e->aenc;
	int err = 0;
	while (av_audio_fifo_size(e->fifo) >= a->frame_size || (flush && av_audio_fifo_size(e->fifo) > 0)) {
		AVFrame *f = e->eframe;
		av_frame_unref(f);
		f->nb_samples = FFMIN(a->frame_size, av_audio_fifo_size(e->fifo));
		f->format = a->sample_fmt;
		f->sample_rate = a->sample_rate;
		if ((err = av_channel_layout_copy(&f->ch_layout, &a->ch_layout)) < 0 || (err = av_frame_get_buffer(f, 0)) < 0) {
			return err;
		}
		if (av_audio_fifo_read(e->fifo, (void **)f->data, f->nb_samples) < f->nb_samples) {
			return AVERROR_BUG;
		}
		f->pts = e->apts;
		e->apts += f->nb_samples;
		if ((err = avcodec_send_frame(a, f)) < 0 || (err = write_packets(e, a, e->ast)) < 0) {
			return err;
		}
	}
	if (flush && (err = avcodec_send_frame(a, NULL)) >= 0) {
		err = write_packets(e, a, e->ast);
	}
	return err;
}

// resample converts in (NULL: what the resampler still holds) into the
// AAC encoder's format, into the fifo.
static int resample(vt_encoder *e, const AVFrame *in) {
	int n = swr_get_out_samples(e->swr, in ? in->nb_samples : 0);
	if (n <= 0) {
		return n;
	}
	uint8_t **buf = NULL;
	int err = av_samples_alloc_array_and_samples(&buf, NULL, e->aenc->ch_layout.nb_channels, n, e->aenc->sample_fmt, 0);
	if (err < 0) {
		return err;
	}
	int got = swr_convert(e->swr, buf, n, in ? (const uint8_t **)in->extended_data : NULL, in ? in->nb_samples : 0);
	if (got > 0 && av_audio_fifo_write(e->fifo, (void **)buf, got) < got) {
		got = AVERROR(ENOMEM);
	}
	av_freep(&buf[0]);
	av_freep(&buf);
	return got < 0 ? got : 0;
}

// decode_audio decodes pkt (NULL: the end) and encodes what comes out.
static int decode_audio(vt_encoder *e, const AVPacket *pkt) {
	int err = avcodec_send_packet(e->adec, pkt);
	if (err < 0 && err != AVERROR_INVALIDDATA) { // a broken packet is skipped, as ffmpeg does
		return err;
	}
	while ((err = avcodec_receive_frame(e->adec, e->dframe)) >= 0) {
		if (!e->apts_set && e->dframe->best_effort_timestamp != AV_NOPTS_VALUE) {
			e->apts = av_rescale_q(e->dframe->best_effort_timestamp - e->in_start, e->ist->time_base, e->aenc->time_base);
			e->apts_set = 1;
		}
		err = resample(e, e->dframe);
		av_frame_unref(e->dframe);
		if (err < 0 || (err = encode_audio(e, 0)) < 0) {
			return err;
		}
	}
	if (err == AVERROR_EOF && pkt == NULL) {
		if ((err = resample(e, NULL)) < 0) {
			return err;
		}
		return encode_audio(e, 1);
	}
	return err == AVERROR(EAGAIN) || err == AVERROR_EOF ? 0 : err;
}

static int pump_audio(vt_encoder *e, double until) {
	while (!e->aeof) {
		if (!e->apending) {
			int err;
			do {
				av_packet_unref(e->apkt);
				err = av_read_frame(e->ic, e->apkt);
			} while (err >= 0 && e->apkt->stream_index != e->ist->index);
			if (err == AVERROR_EOF) {
				e->aeof = 1;
				return e->aenc ? decode_audio(e, NULL) : 0;
			}
			if (err < 0) {
				return err;
			}
			e->apending = 1;
		}
		AVPacket *p = e->apkt;
		int64_t t = p->dts != AV_NOPTS_VALUE ? p->dts : p->pts;
		if (t != AV_NOPTS_VALUE && seconds(t - e->in_start, e->ist->time_base) > until) {
			return 0;
		}
		e->apending = 0;
		if (e->aenc) {
			int err = decode_audio(e, p);
			av_packet_unref(p);
			if (err < 0) {
				return err;
			}
			continue;
		}
		if (p->pts != AV_NOPTS_VALUE) {
			p->pts -= e->in_start;
		}
		if (p->dts != AV_NOPTS_VALUE) {
			p->dts -= e->in_start;
		}
		av_packet_rescale_ts(p, e->ist->time_base, e->ast->time_base);
		p->stream_index = e->ast->index;
		p->pos = -1;
		int err = av_interleaved_write_frame(e->oc, p);
		if (err < 0) {
			return err;
		}
	}
	return 0;
}

int vt_encoder_finish(vt_encoder *e, char **log) {
	vt_capture c;
	vt_capture_begin(&c);
	int err = avcodec_send_frame(e->venc, NULL);
	if (err >= 0) {
		err = write_packets(e, e->venc, e->vst);
	}
	if (err >= 0 && e->ist != NULL) {
		err = pump_audio(e, INFINITY); // ffmpeg's CLI keeps audio past the last frame
	}
	if (e->header) {
		e->header = 0;
		int t = av_write_trailer(e->oc);
		err = err < 0 ? err : t;
	}
	if (e->oc->pb != NULL) {
		int t = avio_closep(&e->oc->pb);
		err = err < 0 ? err : t;
	}
	*log = vt_capture_end();
	return err;
}

void vt_encoder_free(vt_encoder *e) {
	if (e == NULL) {
		return;
	}
	// Closing x264 logs its statistics at info level: ffmpeg -loglevel
	// error would not print them either.
	vt_capture c;
	vt_capture_begin(&c);
	if (e->oc != NULL && e->oc->pb != NULL) {
		avio_closep(&e->oc->pb);
	}
	avformat_free_context(e->oc);
	avcodec_free_context(&e->venc);
	avcodec_free_context(&e->adec);
	avcodec_free_context(&e->aenc);
	avformat_close_input(&e->ic);
	av_frame_free(&e->frame);
	av_frame_free(&e->dframe);
	av_frame_free(&e->eframe);
	av_packet_free(&e->pkt);
	av_packet_free(&e->apkt);
	av_packet_free(&e->epkt);
	sws_freeContext(e->sws);
	swr_free(&e->swr);
	if (e->fifo != NULL) {
		av_audio_fifo_free(e->fifo);
	}
	av_free(e->padded);
	free(e);
	free(vt_capture_end());
}
