import CHDF5
#if canImport(Glibc)
import Glibc
#endif

/// A dataset in an open HDF5 file: typed whole and hyperslab reads and writes, extension along
/// unlimited axes, and direct chunk writes for data compressed outside the HDF5 lock.
public final class HDF5Dataset: HDF5AttributeHolder {
    public let file: HDF5File
    /// The dataset's path inside the file.
    public let path: String
    var id: hid_t

    public var objectID: hid_t { id }
    public var filePath: String { file.path }
    public var objectPath: String { path }

    init(open name: String, in group: HDF5Group) throws {
        file = group.file
        path = group.child(name)
        id = try HDF5.check(H5Dopen2(group.id, name, mims_h5p_default()), "open dataset",
                            file: file.path, object: path)
    }

    init(create name: String, in group: HDF5Group, fileType: hid_t, shape: [Int], maxShape: [Int?]?,
         chunk: [Int]?, deflateLevel: Int?) throws {
        file = group.file
        path = group.child(name)
        let path = self.path, filePath = group.file.path
        var dims = shape.map { hsize_t($0) }
        var maxDims = (maxShape ?? shape).map { $0.map { hsize_t($0) } ?? mims_h5s_unlimited() }
        guard maxDims.count == dims.count else {
            throw HDF5Error(operation: "create dataset", file: filePath, object: path,
                            detail: "shape and maximum shape have different ranks")
        }
        let space = try HDF5.check(H5Screate_simple(Int32(dims.count), &dims, &maxDims), "create dataset",
                                   file: filePath, object: path)
        defer { H5Sclose(space) }
        let dcpl = try HDF5.check(H5Pcreate(mims_h5p_dataset_create()), "create dataset", file: filePath,
                                  object: path)
        defer { H5Pclose(dcpl) }
        // No modification times in object headers: the same content gives the same file bytes.
        H5Pset_obj_track_times(dcpl, false)
        if let chunk {
            var chunkDims = chunk.map { hsize_t(Swift.max(1, $0)) }
            try HDF5.check(H5Pset_chunk(dcpl, Int32(chunkDims.count), &chunkDims), "create dataset",
                           file: filePath, object: path)
            if let deflateLevel {
                try HDF5.check(H5Pset_shuffle(dcpl), "create dataset", file: filePath, object: path)
                try HDF5.check(H5Pset_deflate(dcpl, UInt32(deflateLevel)), "create dataset",
                               file: filePath, object: path)
            }
        }
        id = try HDF5.check(
            H5Dcreate2(group.id, name, fileType, space, mims_h5p_default(), dcpl, mims_h5p_default()),
            "create dataset", file: filePath, object: path)
    }

    /// The current extent.
    public func shape() throws -> [Int] {
        let space = try HDF5.check(H5Dget_space(id), "read shape of", file: file.path, object: path)
        defer { H5Sclose(space) }
        let rank = Int(H5Sget_simple_extent_ndims(space))
        guard rank >= 0 else {
            throw HDF5Error(operation: "read shape of", file: file.path, object: path,
                            detail: HDF5.takeErrorMessage())
        }
        var dims = [hsize_t](repeating: 0, count: rank)
        if rank > 0 { H5Sget_simple_extent_dims(space, &dims, nil) }
        return dims.map { Int($0) }
    }

    /// The chunk shape, or nil for contiguous storage.
    public func chunkShape() throws -> [Int]? {
        let dcpl = try HDF5.check(H5Dget_create_plist(id), "read layout of", file: file.path, object: path)
        defer { H5Pclose(dcpl) }
        guard H5Pget_layout(dcpl) == H5D_CHUNKED else { return nil }
        var dims = [hsize_t](repeating: 0, count: 32)
        let rank = H5Pget_chunk(dcpl, 32, &dims)
        return dims.prefix(Int(Swift.max(0, rank))).map { Int($0) }
    }

    /// The filter ids of the dataset's pipeline in order (1 = deflate, 2 = shuffle).
    public func filters() throws -> [Int] {
        let dcpl = try HDF5.check(H5Dget_create_plist(id), "read filters of", file: file.path, object: path)
        defer { H5Pclose(dcpl) }
        let count = H5Pget_nfilters(dcpl)
        var result: [Int] = []
        for index in 0..<Swift.max(0, count) {
            var flags: UInt32 = 0
            var elements = 0
            var values = [UInt32](repeating: 0, count: 8)
            var name = [CChar](repeating: 0, count: 64)
            var config: UInt32 = 0
            let filter = H5Pget_filter2(dcpl, UInt32(index), &flags, &elements, &values, 64, &name, &config)
            result.append(Int(filter))
        }
        return result
    }

    /// The stored element type: its HDF5 class and size in bytes.
    public func elementType() throws -> (typeClass: H5T_class_t, size: Int, isVariableString: Bool) {
        let type = try HDF5.check(H5Dget_type(id), "read type of", file: file.path, object: path)
        defer { H5Tclose(type) }
        let typeClass = H5Tget_class(type)
        return (typeClass, H5Tget_size(type), typeClass == H5T_STRING && H5Tis_variable_str(type) > 0)
    }

    /// Grows (or shrinks) the extent; the dataset must be chunked with room in `maxShape`.
    public func extend(to shape: [Int]) throws {
        var dims = shape.map { hsize_t($0) }
        try HDF5.check(H5Dset_extent(id, &dims), "extend dataset", file: file.path, object: path)
    }

    /// Writes the whole dataset from `values` (row-major, `count` = product of the shape).
    public func write<T: HDF5Element>(_ values: [T]) throws {
        let expected = try shape().reduce(1, *)
        guard values.count == expected else {
            throw HDF5Error(operation: "write dataset", file: file.path, object: path,
                            detail: "\(values.count) values for \(expected) elements")
        }
        try values.withUnsafeBytes { buffer in
            try HDF5.check(H5Dwrite(id, T.nativeType, mims_h5s_all(), mims_h5s_all(), mims_h5p_default(),
                                    buffer.baseAddress), "write dataset", file: file.path, object: path)
        }
    }

    /// Writes a block of the dataset starting at `start` with extent `count`.
    public func write<T: HDF5Element>(_ values: UnsafeBufferPointer<T>, start: [Int], count: [Int]) throws {
        guard values.count == count.reduce(1, *) else {
            throw HDF5Error(operation: "write dataset", file: file.path, object: path,
                            detail: "\(values.count) values for a block of \(count)")
        }
        try withSelection(start: start, count: count, operation: "write dataset") { memory, fileSpace in
            try HDF5.check(H5Dwrite(id, T.nativeType, memory, fileSpace, mims_h5p_default(),
                                    values.baseAddress), "write dataset", file: file.path, object: path)
        }
    }

    /// Reads the whole dataset, converting to `T` (HDF5 converts between numeric types).
    public func read<T: HDF5Element>(as type: T.Type = T.self) throws -> [T] {
        let count = try shape().reduce(1, *)
        return try [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count > 0 {
                try HDF5.check(H5Dread(id, T.nativeType, mims_h5s_all(), mims_h5s_all(), mims_h5p_default(),
                                       buffer.baseAddress), "read dataset", file: file.path, object: path)
            }
            initialized = count
        }
    }

    /// Reads the block at `start` with extent `count` into `buffer`, which must hold exactly that
    /// many elements.
    public func read<T: HDF5Element>(into buffer: UnsafeMutableBufferPointer<T>, start: [Int],
                                     count: [Int]) throws {
        guard buffer.count == count.reduce(1, *) else {
            throw HDF5Error(operation: "read dataset", file: file.path, object: path,
                            detail: "buffer of \(buffer.count) for a block of \(count)")
        }
        try withSelection(start: start, count: count, operation: "read dataset") { memory, fileSpace in
            try HDF5.check(H5Dread(id, T.nativeType, memory, fileSpace, mims_h5p_default(),
                                   buffer.baseAddress), "read dataset", file: file.path, object: path)
        }
    }

    /// Writes one already-filtered chunk as it will sit in the file. `filterMask` bit i set means
    /// filter i of the pipeline was not applied to this chunk (so readers skip it too).
    public func writeRawChunk(at offset: [Int], filterMask: UInt32, bytes: UnsafeRawBufferPointer) throws {
        var chunkOffset = offset.map { hsize_t($0) }
        try HDF5.check(H5Dwrite_chunk(id, mims_h5p_default(), filterMask, &chunkOffset, bytes.count,
                                      bytes.baseAddress), "write chunk of", file: file.path, object: path)
    }

    /// Reads one chunk as stored in the file (still filtered) into `buffer`, which must hold
    /// ``storedChunkSize(at:)`` bytes; returns the chunk's filter mask.
    public func readRawChunk(at offset: [Int], into buffer: UnsafeMutableRawBufferPointer) throws -> UInt32 {
        var chunkOffset = offset.map { hsize_t($0) }
        var mask: UInt32 = 0
        try HDF5.check(H5Dread_chunk(id, mims_h5p_default(), &chunkOffset, &mask, buffer.baseAddress), "read chunk of",
                       file: file.path, object: path)
        return mask
    }

    /// The number of bytes a chunk occupies in the file.
    public func storedChunkSize(at offset: [Int]) throws -> Int {
        var chunkOffset = offset.map { hsize_t($0) }
        var size: hsize_t = 0
        try HDF5.check(H5Dget_chunk_storage_size(id, &chunkOffset, &size), "read chunk size of",
                       file: file.path, object: path)
        return Int(size)
    }

    /// Writes a one-dimensional dataset of strings created by `HDF5Group.createStringDataset`.
    func writeStrings(_ values: [String]) throws {
        let type = try HDF5.check(H5Dget_type(id), "write dataset", file: file.path, object: path)
        defer { H5Tclose(type) }
        if values.isEmpty { return }
        if H5Tis_variable_str(type) > 0 {
            // Keep the C strings alive for the duration of the write.
            let storage = values.map { strdup($0) }
            defer { storage.forEach { free($0) } }
            var pointers: [UnsafePointer<CChar>?] = storage.map { UnsafePointer($0) }
            try HDF5.check(H5Dwrite(id, type, mims_h5s_all(), mims_h5s_all(), mims_h5p_default(), &pointers),
                           "write dataset", file: file.path, object: path)
        } else {
            let width = H5Tget_size(type)
            var bytes = [UInt8](repeating: 0, count: width * values.count)
            for (index, value) in values.enumerated() {
                let utf8 = Array(value.utf8)
                guard utf8.count <= width else {
                    throw HDF5Error(operation: "write dataset", file: file.path, object: path,
                                    detail: "string of \(utf8.count) bytes exceeds the width \(width)")
                }
                bytes.replaceSubrange(index * width..<index * width + utf8.count, with: utf8)
            }
            try HDF5.check(H5Dwrite(id, type, mims_h5s_all(), mims_h5s_all(), mims_h5p_default(), &bytes),
                           "write dataset", file: file.path, object: path)
        }
    }

    /// Reads a one-dimensional dataset of variable- or fixed-length strings.
    public func readStrings() throws -> [String] {
        let count = try shape().reduce(1, *)
        let fileType = try HDF5.check(H5Dget_type(id), "read dataset", file: file.path, object: path)
        defer { H5Tclose(fileType) }
        guard H5Tget_class(fileType) == H5T_STRING else {
            throw HDF5Error(operation: "read dataset", file: file.path, object: path,
                            detail: "dataset does not hold strings")
        }
        if count == 0 { return [] }
        if H5Tis_variable_str(fileType) > 0 {
            let memType = try HDF5.makeStringType(length: nil, file: file.path)
            defer { H5Tclose(memType) }
            var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
            try HDF5.check(H5Dread(id, memType, mims_h5s_all(), mims_h5s_all(), mims_h5p_default(), &pointers),
                           "read dataset", file: file.path, object: path)
            defer {
                let space = H5Dget_space(id)
                H5Dvlen_reclaim(memType, space, mims_h5p_default(), &pointers)
                H5Sclose(space)
            }
            return pointers.map { $0.map { String(cString: $0) } ?? "" }
        }
        let width = H5Tget_size(fileType)
        var bytes = [UInt8](repeating: 0, count: width * count)
        try HDF5.check(H5Dread(id, fileType, mims_h5s_all(), mims_h5s_all(), mims_h5p_default(), &bytes),
                       "read dataset", file: file.path, object: path)
        return (0..<count).map { index in
            String(decoding: bytes[index * width..<(index + 1) * width].prefix(while: { $0 != 0 }),
                   as: UTF8.self)
        }
    }

    private func withSelection(start: [Int], count: [Int], operation: String,
                               _ body: (hid_t, hid_t) throws -> Void) throws {
        let fileSpace = try HDF5.check(H5Dget_space(id), operation, file: file.path, object: path)
        defer { H5Sclose(fileSpace) }
        let rank = Int(H5Sget_simple_extent_ndims(fileSpace))
        guard start.count == rank, count.count == rank else {
            throw HDF5Error(operation: operation, file: file.path, object: path,
                            detail: "selection of rank \(start.count) in a dataset of rank \(rank)")
        }
        let extent = try shape()
        for axis in 0..<rank where start[axis] < 0 || count[axis] < 0 || start[axis] + count[axis] > extent[axis] {
            throw HDF5Error(operation: operation, file: file.path, object: path,
                            detail: "block \(start)+\(count) is outside the extent \(extent)")
        }
        var hStart = start.map { hsize_t($0) }
        var hCount = count.map { hsize_t($0) }
        try HDF5.check(H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, &hStart, nil, &hCount, nil),
                       operation, file: file.path, object: path)
        let memory = try HDF5.check(H5Screate_simple(Int32(rank), &hCount, nil), operation,
                                    file: file.path, object: path)
        defer { H5Sclose(memory) }
        try body(memory, fileSpace)
    }

    deinit {
        if id >= 0 { H5Dclose(id) }
    }
}
