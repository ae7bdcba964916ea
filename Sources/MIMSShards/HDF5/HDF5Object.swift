import CHDF5

/// Attributes on a group or dataset.
public protocol HDF5AttributeHolder: AnyObject {
    var objectID: hid_t { get }
    var filePath: String { get }
    var objectPath: String { get }
}

extension HDF5AttributeHolder {
    /// Whether an attribute of that name exists.
    public func hasAttribute(_ name: String) -> Bool {
        H5Aexists(objectID, name) > 0
    }

    /// Writes a scalar UTF-8 string attribute (variable length, as h5py writes `str`).
    public func setAttribute(_ name: String, _ value: String) throws {
        let type = try stringType()
        defer { H5Tclose(type) }
        try withAttribute(name, type: type) { attribute in
            try value.withCString { text in
                var pointer: UnsafePointer<CChar>? = text
                try HDF5.check(H5Awrite(attribute, type, &pointer), "write attribute '\(name)' of",
                               file: filePath, object: objectPath)
            }
        }
    }

    /// Writes a scalar 64-bit integer attribute.
    public func setAttribute(_ name: String, _ value: Int64) throws {
        try withAttribute(name, type: Int64.fileType) { attribute in
            var copy = value
            try HDF5.check(H5Awrite(attribute, Int64.nativeType, &copy), "write attribute '\(name)' of",
                           file: filePath, object: objectPath)
        }
    }

    /// Reads a string attribute, variable or fixed length.
    public func stringAttribute(_ name: String) throws -> String {
        let (attribute, fileType) = try openAttribute(name)
        defer { H5Aclose(attribute); H5Tclose(fileType) }
        guard H5Tget_class(fileType) == H5T_STRING else {
            throw HDF5Error(operation: "read attribute '\(name)' of", file: filePath, object: objectPath,
                            detail: "attribute is not a string")
        }
        if H5Tis_variable_str(fileType) > 0 {
            let memType = try stringType()
            defer { H5Tclose(memType) }
            var pointer: UnsafeMutablePointer<CChar>? = nil
            try HDF5.check(H5Aread(attribute, memType, &pointer), "read attribute '\(name)' of",
                           file: filePath, object: objectPath)
            defer { H5free_memory(pointer) }
            return pointer.map { String(cString: $0) } ?? ""
        }
        let size = H5Tget_size(fileType)
        var bytes = [UInt8](repeating: 0, count: size + 1)
        try HDF5.check(H5Aread(attribute, fileType, &bytes), "read attribute '\(name)' of",
                       file: filePath, object: objectPath)
        return String(decoding: bytes.prefix(while: { $0 != 0 }), as: UTF8.self)
    }

    /// Reads an integer attribute (any integer type in the file).
    public func int64Attribute(_ name: String) throws -> Int64 {
        let (attribute, fileType) = try openAttribute(name)
        defer { H5Aclose(attribute); H5Tclose(fileType) }
        guard H5Tget_class(fileType) == H5T_INTEGER else {
            throw HDF5Error(operation: "read attribute '\(name)' of", file: filePath, object: objectPath,
                            detail: "attribute is not an integer")
        }
        var value: Int64 = 0
        try HDF5.check(H5Aread(attribute, Int64.nativeType, &value), "read attribute '\(name)' of",
                       file: filePath, object: objectPath)
        return value
    }

    /// Opens an attribute and its stored type; the caller closes both.
    private func openAttribute(_ name: String) throws -> (attribute: hid_t, type: hid_t) {
        let attribute = try HDF5.check(H5Aopen(objectID, name, mims_h5p_default()),
                                       "open attribute '\(name)' of", file: filePath, object: objectPath)
        let type = H5Aget_type(attribute)
        if type < 0 {
            H5Aclose(attribute)
            throw HDF5Error(operation: "read attribute '\(name)' of", file: filePath, object: objectPath,
                            detail: HDF5.takeErrorMessage())
        }
        return (attribute, type)
    }

    private func withAttribute(_ name: String, type: hid_t, _ body: (hid_t) throws -> Void) throws {
        if H5Aexists(objectID, name) > 0 {
            try HDF5.check(H5Adelete(objectID, name), "replace attribute '\(name)' of",
                           file: filePath, object: objectPath)
        }
        let space = try HDF5.check(H5Screate(H5S_SCALAR), "create attribute '\(name)' of",
                                   file: filePath, object: objectPath)
        defer { H5Sclose(space) }
        let attribute = try HDF5.check(
            H5Acreate2(objectID, name, type, space, mims_h5p_default(), mims_h5p_default()),
            "create attribute '\(name)' of", file: filePath, object: objectPath)
        defer { H5Aclose(attribute) }
        try body(attribute)
    }

    func stringType() throws -> hid_t {
        try HDF5.makeStringType(length: nil, file: filePath)
    }
}

extension HDF5 {
    /// A UTF-8 string type: variable length when `length` is nil, else fixed, NUL-padded ASCII.
    static func makeStringType(length: Int?, file: String) throws -> hid_t {
        let type = try check(H5Tcopy(mims_h5t_c_s1()), "create string type", file: file)
        if let length {
            try check(H5Tset_size(type, length), "create string type", file: file)
            try check(H5Tset_strpad(type, H5T_STR_NULLPAD), "create string type", file: file)
            try check(H5Tset_cset(type, H5T_CSET_ASCII), "create string type", file: file)
        } else {
            try check(H5Tset_size(type, mims_h5t_variable()), "create string type", file: file)
            try check(H5Tset_cset(type, H5T_CSET_UTF8), "create string type", file: file)
        }
        return type
    }
}
