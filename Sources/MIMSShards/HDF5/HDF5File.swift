import CHDF5

/// An open HDF5 file. Closed when the last reference goes away, or explicitly with ``close()``.
///
/// Debian's libhdf5 is the thread-safe build, so every call takes one global lock: use one file from
/// one thread at a time and keep heavy work (decoding, compressing) outside HDF5 calls.
public final class HDF5File {
    /// How to open an existing file.
    public enum Mode { case readOnly, readWrite }

    public let path: String
    var id: hid_t

    private init(path: String, id: hid_t) {
        self.path = path
        self.id = id
    }

    /// The root group, "/". Groups and datasets keep their file open while they live.
    public func root() throws -> HDF5Group {
        try HDF5Group(file: self, path: "/")
    }

    /// Creates a file, replacing any file at `path`.
    public static func create(_ path: String) throws -> HDF5File {
        _ = HDF5.initialized
        let id = try HDF5.check(
            H5Fcreate(path, mims_h5f_acc_trunc(), mims_h5p_default(), mims_h5p_default()),
            "create HDF5 file", file: path)
        return HDF5File(path: path, id: id)
    }

    /// Opens an existing file.
    public static func open(_ path: String, mode: Mode = .readOnly) throws -> HDF5File {
        _ = HDF5.initialized
        let flags = mode == .readOnly ? mims_h5f_acc_rdonly() : mims_h5f_acc_rdwr()
        let id = try HDF5.check(H5Fopen(path, flags, mims_h5p_default()), "open HDF5 file", file: path)
        return HDF5File(path: path, id: id)
    }

    /// Writes HDF5's buffers to the operating system (not to the disk: fsync the path for that).
    public func flush() throws {
        try HDF5.check(H5Fflush(id, H5F_SCOPE_GLOBAL), "flush", file: path)
    }

    /// Closes the file. Every group and dataset of it must be released first: HDF5 would otherwise
    /// defer the close (and its last writes, such as clearing the superblock's open-for-writing
    /// flag) until they are, which could be after the caller has fsynced and renamed the file.
    public func close() throws {
        guard id >= 0 else { return }
        let open = H5Fget_obj_count(id, mims_h5f_obj_all_local())
        if open > 1 {
            throw HDF5Error(operation: "close", file: path, object: "", detail: "\(open - 1) groups or datasets of the file are still open")
        }
        let status = H5Fclose(id)
        id = -1
        try HDF5.check(status, "close", file: path)
    }

    deinit {
        if id >= 0 { H5Fclose(id) }
    }
}
