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
    /// libhdf5 crashed (in the child process that reads for t2r) on this file: it is corrupt or hostile.
    case libraryCrashed(file: String, object: String, operation: String, signal: String)
    /// libhdf5 did not finish within its deadline on this file (a corrupt file can make it loop).
    case libraryHung(file: String, object: String, operation: String, seconds: Double)
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
        case let .libraryCrashed(f, o, op, sig):
            "\(f): libhdf5 crashed (\(sig)) trying to \(op) `\(o)`: the file is corrupt or not a valid HDF5 file "
                + "(t2r ran libhdf5 in a separate process, so only that process died)"
        case let .libraryHung(f, o, op, t):
            "\(f): libhdf5 did not finish trying to \(op) `\(o)` within \(HDF5Error.describeSeconds(t)) s and was stopped: the file is corrupt "
                + "(a loop in its structure) or the disk is extremely slow (T2R_HDF5_TIMEOUT sets the limit in seconds)"
        case let .externalData(f, d, sources):
            "\(f): dataset `\(d)` keeps its data in other files (\(sources.joined(separator: ", "))); t2r reads tensors only "
                + "from the checkpoint file itself (an HDF5 file could otherwise point at any file on the machine)"
        case let .readFailed(f, o, op, d):
            "\(f): cannot \(op) `\(o)`: \(d.isEmpty ? "libhdf5 gave no reason" : d)"
        }
    }

    /// Whole seconds where they fit an Int, else the Double as it is (a deadline of any value must print).
    static func describeSeconds(_ t: Double) -> String {
        t.isFinite && abs(t) < 1e15 ? "\(Int(t.rounded()))" : "\(t)"
    }
}
