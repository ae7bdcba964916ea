#ifndef MIMS_DICOM_H
#define MIMS_DICOM_H
/* A small C face on GDCM (Debian's libgdcm-dev) for the DICOM ophthalmic tomography reader.
 * Every C++ exception and every GDCM failure stays on this side: callers see NULL or -1 and a
 * message. The Swift side validates the file's structure and sizes before any of this runs,
 * because GDCM sizes its buffers from the length fields it reads. */
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** An object parsed by GDCM; opaque. */
typedef struct mims_dicom mims_dicom;

/** Parses the DICOM object in `bytes` (not copied: it must outlive the handle). With
 *  `header_only`, parsing stops before the pixel data. NULL and a message on failure. */
mims_dicom *mims_dicom_open(const void *bytes, size_t count, int header_only, char *message, size_t message_size);

void mims_dicom_free(mims_dicom *object);

/** The value of the element that `path` names, as text (numbers of binary VRs in decimal,
 *  multiple values separated by a backslash), trimmed of padding. `path` is tag, item index,
 *  tag, item index, ..., tag: a top-level element is one tag, an element of item i of a
 *  sequence three. Returns the value's length (which may exceed `out_size`; the copy is
 *  truncated and NUL-terminated) or -1 when the element is absent. */
long mims_dicom_value(const mims_dicom *object, const uint32_t *path, size_t path_count, char *out, size_t out_size);

/** The number of items of the sequence that `path` names (as for mims_dicom_value), 0 when absent. */
long mims_dicom_item_count(const mims_dicom *object, const uint32_t *path, size_t path_count);

/** The image as the caller validated it. GDCM's own image reader is not used: it derives geometry
 *  from the functional groups and asserts (aborts) on objects it does not expect. */
typedef struct {
    uint32_t columns, rows, frames;
    uint16_t bits_allocated, bits_stored;
    int monochrome1;
} mims_dicom_image_layout;

/** Decodes the pixel data of an object opened with its image into `out` (exactly
 *  columns x rows x frames x bits_allocated / 8 bytes), native-endian samples, frame after frame,
 *  through GDCM's codec for the object's transfer syntax. 0, or -1 and a message. */
int mims_dicom_decode(const mims_dicom *object, const mims_dicom_image_layout *layout, void *out, size_t out_size,
                      char *message, size_t message_size);

#ifdef __cplusplus
}
#endif
#endif
