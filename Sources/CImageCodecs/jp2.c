// JPEG 2000 through OpenJPEG (Debian's libopenjp2-7-dev), over memory buffers.
//
// OpenJPEG reports through callbacks; they write into a message buffer here, so Swift sees a status
// code and a message. Strict mode makes a truncated codestream an error instead of a partly gray image.
#include "mims_codecs.h"
#include "internal.h"
#include <stdlib.h>
#include <string.h>
#include <openjpeg.h>

typedef struct {
    const uint8_t *data;
    size_t size;
    size_t pos;
} jp2_input;

static OPJ_SIZE_T jp2_read(void *buffer, OPJ_SIZE_T count, void *user) {
    jp2_input *in = user;
    if (in->pos >= in->size) return (OPJ_SIZE_T)-1;
    size_t n = in->size - in->pos < count ? in->size - in->pos : count;
    memcpy(buffer, in->data + in->pos, n);
    in->pos += n;
    return n;
}

static OPJ_OFF_T jp2_skip(OPJ_OFF_T count, void *user) {
    jp2_input *in = user;
    if (count < 0) {
        if ((size_t)(-count) > in->pos) return -1;
        in->pos -= (size_t)(-count);
        return count;
    }
    size_t n = in->size - in->pos < (size_t)count ? in->size - in->pos : (size_t)count;
    in->pos += n;
    return (OPJ_OFF_T)n;
}

static OPJ_BOOL jp2_seek(OPJ_OFF_T offset, void *user) {
    jp2_input *in = user;
    if (offset < 0 || (uint64_t)offset > in->size) return OPJ_FALSE;
    in->pos = (size_t)offset;
    return OPJ_TRUE;
}

typedef struct {
    char *message;
    size_t capacity;
} jp2_messages;

static void jp2_error(const char *text, void *user) {
    jp2_messages *m = user;
    if (m->message && m->capacity && m->message[0] == 0) {
        mims_set_message(m->message, m->capacity, "%s", text);
        size_t len = strlen(m->message);
        while (len > 0 && (m->message[len - 1] == '\n' || m->message[len - 1] == '\r')) m->message[--len] = 0;
    }
}

static void jp2_quiet(const char *text, void *user) { (void)text; (void)user; }

// The codec's handlers, for the decoder and the encoder alike: the first error into `messages`,
// warnings and info dropped.
static void jp2_set_handlers(opj_codec_t *codec, jp2_messages *messages) {
    opj_set_error_handler(codec, jp2_error, messages);
    opj_set_warning_handler(codec, jp2_quiet, NULL);
    opj_set_info_handler(codec, jp2_quiet, NULL);
}

int mims_j2k_decode(const uint8_t *data, size_t size, mims_decode_limits limits, mims_image *out,
                    uint32_t *precision, char *message, size_t message_capacity) {
    if (message && message_capacity) message[0] = 0;
    if (!data || !out) {
        mims_set_message(message, message_capacity, "no data");
        return MIMS_CODEC_BAD_ARGUMENT;
    }
    memset(out, 0, sizeof(*out));
    static const uint8_t j2k_magic[4] = {0xFF, 0x4F, 0xFF, 0x51};
    static const uint8_t jp2_magic[12] = {0, 0, 0, 0x0C, 'j', 'P', ' ', ' ', 0x0D, 0x0A, 0x87, 0x0A};
    OPJ_CODEC_FORMAT format;
    if (size >= 4 && memcmp(data, j2k_magic, 4) == 0) {
        format = OPJ_CODEC_J2K;
    } else if (size >= 12 && memcmp(data, jp2_magic, 12) == 0) {
        format = OPJ_CODEC_JP2;
    } else {
        mims_set_message(message, message_capacity, "neither a JPEG 2000 codestream (FF 4F FF 51) nor a JP2 file");
        return MIMS_CODEC_CORRUPT;
    }
    jp2_input in = {data, size, 0};
    jp2_messages messages = {message, message_capacity};
    opj_codec_t *codec = opj_create_decompress(format);
    opj_stream_t *stream = opj_stream_create(OPJ_J2K_STREAM_CHUNK_SIZE, OPJ_TRUE);
    opj_image_t *image = NULL;
    int status = MIMS_CODEC_CORRUPT;
    if (!codec || !stream) {
        status = MIMS_CODEC_NO_MEMORY;
        goto done;
    }
    jp2_set_handlers(codec, &messages);
    opj_stream_set_user_data(stream, &in, NULL);
    opj_stream_set_user_data_length(stream, size);
    opj_stream_set_read_function(stream, jp2_read);
    opj_stream_set_skip_function(stream, jp2_skip);
    opj_stream_set_seek_function(stream, jp2_seek);
    opj_dparameters_t parameters;
    opj_set_default_decoder_parameters(&parameters);
    if (!opj_setup_decoder(codec, &parameters) || !opj_decoder_set_strict_mode(codec, OPJ_TRUE)) goto done;
    if (!opj_read_header(stream, codec, &image) || !image) {
        if (message && message[0] == 0) mims_set_message(message, message_capacity, "unreadable JPEG 2000 header");
        goto done;
    }
    uint32_t channels = image->numcomps;
    if (channels != 1 && channels != 3) {
        mims_set_message(message, message_capacity, "%u components (1 or 3 supported)", channels);
        status = MIMS_CODEC_UNSUPPORTED;
        goto done;
    }
    uint64_t width = (uint64_t)image->x1 - image->x0, height = (uint64_t)image->y1 - image->y0;
    uint32_t prec = image->comps[0].prec;
    for (uint32_t c = 0; c < channels; c++) {
        opj_image_comp_t *comp = &image->comps[c];
        if (comp->dx != 1 || comp->dy != 1 || comp->prec != prec || comp->sgnd || prec == 0 || prec > 16) {
            mims_set_message(message, message_capacity, "component %u is subsampled, signed or of %u bits (unsigned 1-16 bits, not subsampled, supported)", c, comp->prec);
            status = MIMS_CODEC_UNSUPPORTED;
            goto done;
        }
    }
    uint32_t bytes = prec > 8 ? 2 : 1;
    status = mims_check_limits(width, height, channels, bytes, limits, message, message_capacity);
    if (status != MIMS_CODEC_OK) goto done;
    status = MIMS_CODEC_CORRUPT;
    if (!opj_decode(codec, stream, image) || !opj_end_decompress(codec, stream)) {
        if (message && message[0] == 0) mims_set_message(message, message_capacity, "undecodable JPEG 2000 codestream");
        goto done;
    }
    for (uint32_t c = 0; c < channels; c++) {
        opj_image_comp_t *comp = &image->comps[c];
        if (!comp->data || comp->w != width || comp->h != height) {
            mims_set_message(message, message_capacity, "component %u decoded to %ux%u, the header says %llux%llu",
                             c, comp->w, comp->h, (unsigned long long)width, (unsigned long long)height);
            goto done;
        }
    }
    size_t count = (size_t)(width * height);
    uint8_t *pixels = malloc(count * channels * bytes + 1);
    if (!pixels) {
        status = MIMS_CODEC_NO_MEMORY;
        goto done;
    }
    int32_t maximum = (int32_t)((1u << prec) - 1);
    for (uint32_t c = 0; c < channels; c++) {
        const OPJ_INT32 *src = image->comps[c].data;
        for (size_t i = 0; i < count; i++) {
            int32_t v = src[i] < 0 ? 0 : (src[i] > maximum ? maximum : src[i]);
            if (bytes == 2) ((uint16_t *)pixels)[i * channels + c] = (uint16_t)v;
            else pixels[i * channels + c] = (uint8_t)v;
        }
    }
    out->width = (uint32_t)width;
    out->height = (uint32_t)height;
    out->channels = channels;
    out->bit_depth = bytes * 8;
    out->pixels = pixels;
    out->byte_count = count * channels * bytes;
    if (precision) *precision = prec;
    status = MIMS_CODEC_OK;
done:
    if (image) opj_image_destroy(image);
    if (stream) opj_stream_destroy(stream);
    if (codec) opj_destroy_codec(codec);
    return status;
}

typedef struct {
    uint8_t *data;
    size_t size;
    size_t capacity;
    size_t pos;
    int failed;
} jp2_output;

static int jp2_reserve(jp2_output *o, size_t needed) {
    if (needed <= o->capacity) return 1;
    size_t capacity = o->capacity ? o->capacity : 65536;
    while (capacity < needed) capacity *= 2;
    uint8_t *grown = realloc(o->data, capacity);
    if (!grown) {
        o->failed = 1;
        return 0;
    }
    o->data = grown;
    o->capacity = capacity;
    return 1;
}

static OPJ_SIZE_T jp2_write(void *buffer, OPJ_SIZE_T count, void *user) {
    jp2_output *o = user;
    if (!jp2_reserve(o, o->pos + count)) return (OPJ_SIZE_T)-1;
    memcpy(o->data + o->pos, buffer, count);
    o->pos += count;
    if (o->pos > o->size) o->size = o->pos;
    return count;
}

static OPJ_OFF_T jp2_write_skip(OPJ_OFF_T count, void *user) {
    jp2_output *o = user;
    if (count < 0 && (size_t)(-count) > o->pos) return -1;
    size_t target = (size_t)((OPJ_OFF_T)o->pos + count);
    if (!jp2_reserve(o, target)) return -1;
    if (target > o->size) {
        memset(o->data + o->size, 0, target - o->size);
        o->size = target;
    }
    o->pos = target;
    return count;
}

static OPJ_BOOL jp2_write_seek(OPJ_OFF_T offset, void *user) {
    jp2_output *o = user;
    if (offset < 0) return OPJ_FALSE;
    return jp2_write_skip(offset - (OPJ_OFF_T)o->pos, user) >= 0 || offset == (OPJ_OFF_T)o->pos;
}

int mims_j2k_encode(const uint8_t *pixels, uint32_t width, uint32_t height, uint32_t channels, uint32_t bit_depth,
                    uint8_t **out, size_t *out_size, char *message, size_t message_capacity) {
    if (message && message_capacity) message[0] = 0;
    if (!pixels || !out || !out_size || width == 0 || height == 0 || (channels != 1 && channels != 3)
        || (bit_depth != 8 && bit_depth != 16)) {
        mims_set_message(message, message_capacity, "need 1 or 3 channels of 8 or 16 bits and a non-empty image");
        return MIMS_CODEC_BAD_ARGUMENT;
    }
    opj_image_cmptparm_t parts[3];
    memset(parts, 0, sizeof(parts));
    for (uint32_t c = 0; c < channels; c++) {
        parts[c].dx = parts[c].dy = 1;
        parts[c].w = width;
        parts[c].h = height;
        parts[c].prec = bit_depth;
        parts[c].sgnd = 0;
    }
    opj_image_t *image = opj_image_create(channels, parts, channels == 1 ? OPJ_CLRSPC_GRAY : OPJ_CLRSPC_SRGB);
    if (!image) return MIMS_CODEC_NO_MEMORY;
    image->x0 = image->y0 = 0;
    image->x1 = width;
    image->y1 = height;
    size_t count = (size_t)width * height;
    for (uint32_t c = 0; c < channels; c++) {
        OPJ_INT32 *dst = image->comps[c].data;
        for (size_t i = 0; i < count; i++)
            dst[i] = bit_depth == 16 ? ((const uint16_t *)pixels)[i * channels + c] : pixels[i * channels + c];
    }
    opj_cparameters_t parameters;
    opj_set_default_encoder_parameters(&parameters);
    parameters.tcp_numlayers = 1;
    parameters.tcp_rates[0] = 0;  // lossless (reversible 5/3 wavelet)
    parameters.cp_disto_alloc = 1;
    uint32_t smallest = width < height ? width : height;
    int resolutions = 1;
    while (resolutions < 6 && (smallest >> resolutions) >= 1) resolutions++;
    parameters.numresolution = resolutions;
    jp2_output o = {0};
    jp2_messages messages = {message, message_capacity};
    int status = MIMS_CODEC_CORRUPT;
    opj_codec_t *codec = opj_create_compress(OPJ_CODEC_J2K);
    opj_stream_t *stream = opj_stream_create(OPJ_J2K_STREAM_CHUNK_SIZE, OPJ_FALSE);
    if (!codec || !stream) {
        status = MIMS_CODEC_NO_MEMORY;
        goto done;
    }
    jp2_set_handlers(codec, &messages);
    opj_stream_set_user_data(stream, &o, NULL);
    opj_stream_set_write_function(stream, jp2_write);
    opj_stream_set_skip_function(stream, jp2_write_skip);
    opj_stream_set_seek_function(stream, jp2_write_seek);
    if (!opj_setup_encoder(codec, &parameters, image) || !opj_start_compress(codec, image, stream)
        || !opj_encode(codec, stream) || !opj_end_compress(codec, stream) || o.failed) {
        if (message && message[0] == 0) mims_set_message(message, message_capacity, "JPEG 2000 encoding failed");
        goto done;
    }
    *out = o.data;
    *out_size = o.size;
    o.data = NULL;
    status = MIMS_CODEC_OK;
done:
    free(o.data);
    if (stream) opj_stream_destroy(stream);
    if (codec) opj_destroy_codec(codec);
    opj_image_destroy(image);
    return status;
}
