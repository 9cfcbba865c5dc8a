// Errors of the HDF5 reader. Each case names the file and, where one is involved, the dataset or
// attribute; libhdf5's own message (the most specific entry of its error stack) is kept as `detail`.
import TensorCore

/// A failure reading an HDF5 file through libhdf5.
public enum HDF5Error: T2RError, Equatable {
    /// The file has no HDF5 signature.
    case notHDF5(file: String)
    /// libhdf5 refused to open the file (truncated, corrupt, or a version it cannot read).
    case cannotOpen(file: String, detail: String)
    /// No dataset of that path.
    case datasetNotFound(file: String, dataset: String)
    /// The dataset's element type cannot be read as Float32 (integers, strings, opaque data without
    /// `dtype = "bfloat16"`, …).
    case unsupportedType(file: String, dataset: String, type: String)
    /// The dataset's description is inconsistent (element count overflow, no stored data, less stored
    /// data than its shape needs, …).
    case invalidDataset(file: String, dataset: String, detail: String)
    /// An attribute exists but does not hold text.
    case attributeNotString(file: String, object: String, attribute: String, type: String)
    /// A libhdf5 call failed on an object of the file.
    case readFailed(file: String, object: String, operation: String, detail: String)
    /// The dataset's data lives in other files (external storage or a virtual dataset), which t2r does not
    /// follow.
    case externalData(file: String, dataset: String, sources: [String])

    /// Always `.badInput`: the file is at fault.
    public var category: ErrorCategory { .badInput }

    /// A sentence naming the file, the object and what is wrong.
    public var description: String {
        switch self {
        case let .notHDF5(f):
            "\(f): not an HDF5 file (no HDF5 signature found)"
        case let .cannotOpen(f, d):
            "\(f): cannot open as HDF5: \(d.isEmpty ? "libhdf5 gave no reason" : d)"
        case let .datasetNotFound(f, d):
            "\(f): no dataset `\(d)`"
        case let .unsupportedType(f, d, t):
            "\(f): dataset `\(d)` has element type \(t), which cannot be read as float32 "
                + "(expected an HDF5 float, or 2-byte opaque data with attribute dtype = \"bfloat16\")"
        case let .invalidDataset(f, d, detail):
            "\(f): dataset `\(d)`: \(detail)"
        case let .attributeNotString(f, o, a, t):
            "\(f): attribute `\(a)` of `\(o)` is \(t), expected a string"
        case let .externalData(f, d, sources):
            "\(f): dataset `\(d)` keeps its data in other files (\(sources.joined(separator: ", "))); t2r reads tensors only "
                + "from the checkpoint file itself (an HDF5 file could otherwise point at any file on the machine)"
        case let .readFailed(f, o, op, d):
            "\(f): cannot \(op) `\(o)`: \(d.isEmpty ? "libhdf5 gave no reason" : d)"
        }
    }
}
