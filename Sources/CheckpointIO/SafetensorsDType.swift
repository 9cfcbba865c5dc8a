// The dtype strings of the safetensors format (exact and case-sensitive) with their bit sizes.

public enum SafetensorsDType: String, CaseIterable, Sendable {
    case BOOL, U8, I8, I16, U16, F16, BF16, I32, U32, F32, I64, U64, F64, C64
    case F8_E5M2, F8_E4M3, F8_E8M0, F8_E4M3FNUZ, F8_E5M2FNUZ
    case F6_E2M3, F6_E3M2, F4

    public var bitSize: Int {
        switch self {
        case .BOOL, .U8, .I8, .F8_E5M2, .F8_E4M3, .F8_E8M0, .F8_E4M3FNUZ, .F8_E5M2FNUZ: 8
        case .I16, .U16, .F16, .BF16: 16
        case .I32, .U32, .F32: 32
        case .I64, .U64, .F64, .C64: 64
        case .F6_E2M3, .F6_E3M2: 6
        case .F4: 4
        }
    }

    /// Alignment the reference writer sorts by (descending) before packing.
    var writerAlignment: Int { max(1, bitSize / 8) }
}
