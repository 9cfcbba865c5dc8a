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

    /// The reference writer (safetensors `prepare()`) sorts tensors by its `Dtype` enum, descending, then
    /// by name: this is the dtype's place in that enum (safetensors 0.8: BOOL < F4 < F6_* < U8 < I8 < F8_* <
    /// I16 < U16 < F16 < BF16 < I32 < U32 < F32 < C64 < F64 < I64 < U64; checked with Python's writer).
    var writerRank: Int {
        switch self {
        case .BOOL: 0
        case .F4: 1
        case .F6_E2M3: 2
        case .F6_E3M2: 3
        case .U8: 4
        case .I8: 5
        case .F8_E5M2: 6
        case .F8_E4M3: 7
        case .F8_E8M0: 8
        case .F8_E4M3FNUZ: 9
        case .F8_E5M2FNUZ: 10
        case .I16: 11
        case .U16: 12
        case .F16: 13
        case .BF16: 14
        case .I32: 15
        case .U32: 16
        case .F32: 17
        case .C64: 18
        case .F64: 19
        case .I64: 20
        case .U64: 21
        }
    }
}
