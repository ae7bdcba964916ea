#ifndef MIMS_DICOM_TEST_WRITER_H
#define MIMS_DICOM_TEST_WRITER_H
/* Test-only: writes DICOM objects with GDCM itself (its writer and its own encoders), so the
 * reader's tests read files the library made, not files the project hand-assembled. */
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Writes a monochrome multi-frame object to `path`. `pixels` holds frames x rows x columns
 *  samples of bits_allocated / 8 bytes (native endian). `transfer_syntax` is a UID: the object is
 *  made uncompressed, then, for a compressed syntax, encoded by GDCM's own codec.
 *  `attributes` alternates "gggg,eeee" and the value as DICOM text (the tag's VR from GDCM's
 *  dictionary; numbers of binary VRs in decimal). Spacing (mm) goes through GDCM's image
 *  spacing: column, row, frame. 0, or -1 and a message. */
int mims_test_write_dicom(const char *path, const char *sop_class, const char *transfer_syntax,
                          uint32_t columns, uint32_t rows, uint32_t frames,
                          uint16_t bits_allocated, uint16_t bits_stored, const char *photometric,
                          const void *pixels, size_t pixels_size, const double spacing[3],
                          const char *const *attributes, size_t attribute_count,
                          char *message, size_t message_size);

#ifdef __cplusplus
}
#endif
#endif
