import CHDF5

/// A fixed-size numeric type that maps to an HDF5 type in memory and in the file.
public protocol HDF5Element {
    /// The type of the values in memory (`H5T_NATIVE_*`).
    static var nativeType: hid_t { get }
    /// The type stored in the file: always little-endian, so shards read the same everywhere.
    static var fileType: hid_t { get }
}

extension UInt8: HDF5Element {
    public static var nativeType: hid_t { mims_h5t_native_uint8() }
    public static var fileType: hid_t { mims_h5t_std_u8le() }
}

extension Int32: HDF5Element {
    public static var nativeType: hid_t { mims_h5t_native_int32() }
    public static var fileType: hid_t { mims_h5t_std_i32le() }
}

extension Int64: HDF5Element {
    public static var nativeType: hid_t { mims_h5t_native_int64() }
    public static var fileType: hid_t { mims_h5t_std_i64le() }
}

extension Float: HDF5Element {
    public static var nativeType: hid_t { mims_h5t_native_float() }
    public static var fileType: hid_t { mims_h5t_ieee_f32le() }
}

extension Double: HDF5Element {
    public static var nativeType: hid_t { mims_h5t_native_double() }
    public static var fileType: hid_t { mims_h5t_ieee_f64le() }
}
