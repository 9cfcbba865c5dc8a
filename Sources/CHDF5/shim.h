// CHDF5 shim: what Swift cannot import from <hdf5.h> directly (formats.md §7.4).
// - Constants that are macros calling functions (H5F_ACC_RDONLY, H5T_NATIVE_FLOAT, H5P_DEFAULT as hid_t)
//   become static inline wrappers, which ClangImporter compiles, so no C target is needed.
// - Object and attribute enumeration, whose callback types and versioned macros change between
//   HDF5 1.10 (H5Ovisit/H5Ovisit2 + H5O_info_t) and 1.12+ (H5Ovisit3 + H5O_info2_t), is done here behind
//   one version-independent callback: int (*)(const char *name, void *context).
#ifndef CHDF5_SHIM_H
#define CHDF5_SHIM_H
#include <hdf5.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <unistd.h>

static inline hid_t shim_H5P_DEFAULT(void) { return H5P_DEFAULT; }
static inline hid_t shim_H5E_DEFAULT(void) { return H5E_DEFAULT; }
static inline hid_t shim_H5S_ALL(void) { return H5S_ALL; }
static inline hid_t shim_H5T_NATIVE_FLOAT(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t shim_H5T_C_S1(void) { return H5T_C_S1; }
static inline size_t shim_H5T_VARIABLE(void) { return H5T_VARIABLE; }

/// Frees the strings (or other variable-length data) the library allocated while reading `buf`
/// (H5Treclaim from 1.12 on, H5Dvlen_reclaim before).
static inline herr_t shim_reclaim(hid_t type, hid_t space, void *buf) {
#if H5_VERSION_GE(1, 12, 0)
    return H5Treclaim(type, space, H5P_DEFAULT, buf);
#else
    return H5Dvlen_reclaim(type, space, H5P_DEFAULT, buf);
#endif
}

/// Called once per name; return 0 to continue, non-zero to stop.
typedef int (*shim_name_callback)(const char *name, void *context);

typedef struct shim_visit_state {
    shim_name_callback callback;
    void *context;
} shim_visit_state;

#if H5_VERSION_GE(1, 12, 0)
static herr_t shim_visit_op(hid_t obj, const char *name, const H5O_info2_t *info, void *data) {
#else
static herr_t shim_visit_op(hid_t obj, const char *name, const H5O_info_t *info, void *data) {
#endif
    (void)obj;
    const shim_visit_state *state = (const shim_visit_state *)data;
    if (info == NULL || name == NULL || info->type != H5O_TYPE_DATASET) return 0;
    return state->callback(name, state->context);
}

/// Calls `callback` with the path (relative to `loc`, '/'-separated) of every dataset reachable from
/// the group `loc`, in name order. Returns a negative value on failure.
static inline herr_t shim_visit_datasets(hid_t loc, shim_name_callback callback, void *context) {
    shim_visit_state state = {callback, context};
#if H5_VERSION_GE(1, 12, 0)
    return H5Ovisit3(loc, H5_INDEX_NAME, H5_ITER_INC, shim_visit_op, &state, H5O_INFO_BASIC);
#elif H5_VERSION_GE(1, 10, 3)
    return H5Ovisit2(loc, H5_INDEX_NAME, H5_ITER_INC, shim_visit_op, &state, H5O_INFO_BASIC);
#else
    return H5Ovisit(loc, H5_INDEX_NAME, H5_ITER_INC, shim_visit_op, &state);
#endif
}

static herr_t shim_attribute_op(hid_t loc, const char *name, const H5A_info_t *info, void *data) {
    (void)loc;
    (void)info;
    const shim_visit_state *state = (const shim_visit_state *)data;
    return name == NULL ? 0 : state->callback(name, state->context);
}

/// Calls `callback` with the name of every attribute of object `loc`, in name order.
static inline herr_t shim_attribute_names(hid_t loc, shim_name_callback callback, void *context) {
    shim_visit_state state = {callback, context};
    hsize_t index = 0;
    return H5Aiterate2(loc, H5_INDEX_NAME, H5_ITER_INC, &index, shim_attribute_op, &state);
}

typedef struct shim_error_state {
    char *buffer;
    size_t size;
} shim_error_state;

static herr_t shim_error_op(unsigned n, const H5E_error2_t *err, void *data) {
    shim_error_state *state = (shim_error_state *)data;
    if (n != 0 || err == NULL || err->desc == NULL) return 0;
    strncpy(state->buffer, err->desc, state->size - 1);
    state->buffer[state->size - 1] = '\0';
    return 0;
}

/// Copies the description of the most specific error on the default error stack into `buffer`
/// (empty when there is none), then clears the stack.
static inline void shim_take_error(char *buffer, size_t size) {
    if (buffer == NULL || size == 0) return;
    buffer[0] = '\0';
    shim_error_state state = {buffer, size};
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, shim_error_op, &state);
    H5Eclear2(H5E_DEFAULT);
}

/// Opens `path` read-only. Where the library supports it (1.10.7+, 1.12.1+), a file system without
/// file locks does not make the open fail. On failure returns a negative id and leaves libhdf5's
/// reason in `error` (as shim_take_error does).
static inline hid_t shim_open_readonly(const char *path, char *error, size_t size) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0) {
        shim_take_error(error, size);
        return fapl;
    }
#if (H5_VERS_MAJOR == 1 && H5_VERS_MINOR == 10 && H5_VERS_RELEASE >= 7) || H5_VERSION_GE(1, 12, 1)
    H5Pset_file_locking(fapl, 1, 1);
#endif
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    if (file < 0) shim_take_error(error, size);  /* before H5Pclose, which clears the error stack */
    H5Pclose(fapl);
    return file;
}

/// A shared memory file for the HDF5 reader's answers (HDF5Sandbox.swift), closed on exec.
static inline int shim_memfd(const char *name) { return (int)syscall(SYS_memfd_create, name, 1u /* MFD_CLOEXEC */); }

/// A close-on-exec duplicate of `fd` numbered at least `lowest` (fcntl is variadic: not callable from Swift).
static inline int shim_dup_above(int fd, int lowest) { return fcntl(fd, F_DUPFD_CLOEXEC, lowest); }


#endif
