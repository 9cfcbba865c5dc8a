// The interface every checkpoint reader presents: named tensors with a storage type and shape,
// loadable as Float32. Safetensors, HDF5 and GGUF readers all conform, so everything downstream
// sees the same thing whatever the file format.
import TensorCore

/// How a tensor is stored in its file: a safetensors dtype string ("BF16"), an HDF5 type ("bfloat16"),
/// or a ggml type ("Q4_1"). Only for display and for choosing a decoder.
public struct StorageType: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let name: String
    public init(_ name: String) { self.name = name }
    public init(stringLiteral value: String) { name = value }
    public var description: String { name }
}

/// One tensor's description.
public struct TensorInfo: Sendable, Equatable {
    public let name: String
    public let storageType: StorageType
    public let shape: [Int]
    /// Bytes the tensor occupies in its file.
    public let byteCount: Int

    public init(name: String, storageType: StorageType, shape: [Int], byteCount: Int) {
        self.name = name
        self.storageType = storageType
        self.shape = shape
        self.byteCount = byteCount
    }

    public var elementCount: Int { Shape.elementCount(shape) ?? 0 }
}

/// A read-only collection of named tensors.
public protocol TensorStore: AnyObject, Sendable {
    /// The file or directory the tensors come from (for messages).
    var path: String { get }
    /// Every tensor, in a stable order.
    var tensorInfos: [TensorInfo] { get }
    /// String metadata stored in the file (safetensors `__metadata__`, GGUF key/values as text, …).
    var metadata: [String: String] { get }
    /// Problems found that do not prevent reading (shown by `t2r inspect`).
    var warnings: [String] { get }
    /// The description of tensor `name`, or nil.
    func info(_ name: String) -> TensorInfo?
    /// Loads a floating-point tensor converted to Float32.
    func loadFloat32(_ name: String) throws -> Tensor
}

extension TensorStore {
    public var tensorNames: [String] { tensorInfos.map(\.name) }
    public var warnings: [String] { [] }
    public var totalBytes: Int { tensorInfos.reduce(0) { $0 + $1.byteCount } }
}

/// Stores whose tensors exist as raw little-endian bytes in a mapped file (safetensors), so a writer can
/// copy them without converting.
public protocol RawTensorAccess {
    /// The tensor's safetensors dtype and bytes (valid while the store lives), or nil if not raw-readable.
    func rawTensor(_ name: String) throws -> (dtype: SafetensorsDType, bytes: UnsafeRawBufferPointer, file: MappedFile, offset: Int)?
}
