// HDF5's H5T_NATIVE_*, H5P_* and H5F_ACC_* names are macros over global variables that Swift
// cannot import; these inline functions give them to Swift as plain calls.
#ifndef MIMS_CHDF5_SHIM_H
#define MIMS_CHDF5_SHIM_H
#include <stdio.h>
#include <string.h>
#include <hdf5.h>

static inline hid_t mims_h5t_native_uint8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t mims_h5t_native_int32(void) { return H5T_NATIVE_INT32; }
static inline hid_t mims_h5t_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t mims_h5t_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t mims_h5t_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t mims_h5t_std_u8le(void) { return H5T_STD_U8LE; }
static inline hid_t mims_h5t_std_i32le(void) { return H5T_STD_I32LE; }
static inline hid_t mims_h5t_std_i64le(void) { return H5T_STD_I64LE; }
static inline hid_t mims_h5t_ieee_f32le(void) { return H5T_IEEE_F32LE; }
static inline hid_t mims_h5t_ieee_f64le(void) { return H5T_IEEE_F64LE; }
static inline hid_t mims_h5t_c_s1(void) { return H5T_C_S1; }

static inline hid_t mims_h5p_default(void) { return H5P_DEFAULT; }
static inline hid_t mims_h5p_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t mims_h5p_file_access(void) { return H5P_FILE_ACCESS; }
static inline hid_t mims_h5p_group_create(void) { return H5P_GROUP_CREATE; }
static inline hid_t mims_h5p_dataset_xfer(void) { return H5P_DATASET_XFER; }
static inline hid_t mims_h5p_link_create(void) { return H5P_LINK_CREATE; }
static inline hid_t mims_h5s_all(void) { return H5S_ALL; }
static inline hsize_t mims_h5s_unlimited(void) { return H5S_UNLIMITED; }
static inline size_t mims_h5t_variable(void) { return H5T_VARIABLE; }
static inline unsigned mims_h5f_obj_all_local(void) { return H5F_OBJ_ALL | H5F_OBJ_LOCAL; }

static inline unsigned mims_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned mims_h5f_acc_rdwr(void) { return H5F_ACC_RDWR; }
static inline unsigned mims_h5f_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline unsigned mims_h5f_acc_excl(void) { return H5F_ACC_EXCL; }

/// Collects the innermost messages of the current HDF5 error stack into `buf` and clears the stack.
/// HDF5 otherwise prints its stack to stderr, which is noise for a user who gets a Swift error instead.
static herr_t mims_h5_walk_cb(unsigned n, const H5E_error2_t *e, void *client) {
    char *buf = (char *)((void **)client)[0];
    size_t cap = *(size_t *)((void **)client)[1];
    size_t len = strlen(buf);
    if (e->desc && len + 3 < cap) {
        snprintf(buf + len, cap - len, "%s%s", len ? "; " : "", e->desc);
    }
    (void)n;
    return 0;
}
static inline void mims_h5_error_message(char *buf, size_t cap) {
    if (cap == 0) return;
    buf[0] = 0;
    void *client[2] = { buf, &cap };
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, mims_h5_walk_cb, client);
    H5Eclear2(H5E_DEFAULT);
}
/// Turns off HDF5's automatic printing of error stacks.
static inline void mims_h5_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }
#endif
