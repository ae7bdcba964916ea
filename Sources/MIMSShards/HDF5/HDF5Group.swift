import CHDF5

/// A group in an open HDF5 file.
public final class HDF5Group: HDF5AttributeHolder {
    public let file: HDF5File
    /// The group's path inside the file.
    public let path: String
    var id: hid_t

    public var objectID: hid_t { id }
    public var filePath: String { file.path }
    public var objectPath: String { path }

    init(file: HDF5File, path: String) throws {
        self.file = file
        self.path = path
        self.id = try HDF5.check(H5Gopen2(file.id, path, mims_h5p_default()), "open group",
                                 file: file.path, object: path)
    }

    private init(file: HDF5File, path: String, id: hid_t) {
        self.file = file
        self.path = path
        self.id = id
    }

    func child(_ name: String) -> String { path == "/" ? "/" + name : path + "/" + name }

    /// Whether a link of that name exists in this group.
    public func contains(_ name: String) -> Bool {
        H5Lexists(id, name, mims_h5p_default()) > 0
    }

    /// Creates a sub-group. Groups carry no modification times, so equal content gives equal bytes.
    public func createGroup(_ name: String) throws -> HDF5Group {
        let gcpl = try HDF5.check(H5Pcreate(mims_h5p_group_create()), "create group", file: file.path,
                                  object: child(name))
        defer { H5Pclose(gcpl) }
        H5Pset_obj_track_times(gcpl, false)
        let gid = try HDF5.check(H5Gcreate2(id, name, mims_h5p_default(), gcpl, mims_h5p_default()),
                                 "create group", file: file.path, object: child(name))
        return HDF5Group(file: file, path: child(name), id: gid)
    }

    /// Opens a sub-group.
    public func group(_ name: String) throws -> HDF5Group {
        try HDF5Group(file: file, path: child(name))
    }

    /// Opens a dataset in this group.
    public func dataset(_ name: String) throws -> HDF5Dataset {
        try HDF5Dataset(open: name, in: self)
    }

    /// Creates a dataset of fixed-size elements.
    ///
    /// - Parameters:
    ///   - shape: the initial extent.
    ///   - maxShape: the largest extent per axis, `nil` for unlimited; defaults to `shape`.
    ///   - chunk: chunk shape; required for compression and for extendable datasets.
    ///   - deflateLevel: 0-9 to store shuffle + deflate filters, `nil` for none.
    public func createDataset<T: HDF5Element>(
        _ name: String, of type: T.Type, shape: [Int], maxShape: [Int?]? = nil,
        chunk: [Int]? = nil, deflateLevel: Int? = nil
    ) throws -> HDF5Dataset {
        try HDF5Dataset(create: name, in: self, fileType: T.fileType, shape: shape, maxShape: maxShape,
                        chunk: chunk, deflateLevel: deflateLevel)
    }

    /// Creates a dataset of strings: variable-length UTF-8 (`fixedLength == nil`) or fixed-length
    /// NUL-padded ASCII, and writes `values` into it.
    @discardableResult
    public func createStringDataset(_ name: String, values: [String], fixedLength: Int? = nil) throws
        -> HDF5Dataset
    {
        let type = try HDF5.makeStringType(length: fixedLength, file: file.path)
        defer { H5Tclose(type) }
        let dataset = try HDF5Dataset(create: name, in: self, fileType: type, shape: [values.count],
                                      maxShape: nil, chunk: nil, deflateLevel: nil)
        try dataset.writeStrings(values)
        return dataset
    }

    func release() {
        if id >= 0 { H5Gclose(id) }
        id = -1
    }

    deinit { release() }
}
