// A seeded pseudo-random generator as a value type, always passed explicitly (`inout`), so runs are
// reproducible and a checkpoint can store the exact generator state. xoshiro256** seeded through
// SplitMix64 (Blackman & Vigna, https://prng.di.unimi.it/).
import Glibc

public struct SeededRNG: RandomNumberGenerator, Sendable, Equatable, Codable {
    public private(set) var state: [UInt64]  // 4 words

    /// A generator seeded from one 64-bit seed.
    public init(seed: UInt64) {
        var sm = seed
        func splitmix() -> UInt64 {
            sm &+= 0x9E37_79B9_7F4A_7C15
            var z = sm
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = [splitmix(), splitmix(), splitmix(), splitmix()]
    }

    /// A generator restored from a saved `state` (4 words, not all zero).
    public init?(state: [UInt64]) {
        guard state.count == 4, state.contains(where: { $0 != 0 }) else { return nil }
        self.state = state
    }

    @inline(__always) private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    public mutating func next() -> UInt64 {
        let result = SeededRNG.rotl(state[1] &* 5, 7) &* 9
        let t = state[1] << 17
        state[2] ^= state[0]
        state[3] ^= state[1]
        state[1] ^= state[2]
        state[0] ^= state[3]
        state[2] ^= t
        state[3] = SeededRNG.rotl(state[3], 45)
        return result
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextDouble() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform in [0, 1) with 24 random bits.
    public mutating func nextFloat() -> Float { Float(next() >> 40) * 0x1.0p-24 }

    /// Uniform integer in 0..<n (n > 0), without modulo bias.
    public mutating func nextInt(below n: Int) -> Int {
        precondition(n > 0)
        return Int(next(upperBound: UInt64(n)))
    }

    /// A standard normal sample (Box–Muller in Double).
    public mutating func nextNormal() -> Double {
        var u1 = nextDouble()
        while u1 <= 0 { u1 = nextDouble() }
        let u2 = nextDouble()
        return (-2 * Glibc.log(u1)).squareRoot() * Glibc.cos(2 * Double.pi * u2)
    }

    /// An independent generator derived from this one's stream (for per-purpose streams).
    public mutating func split() -> SeededRNG { SeededRNG(seed: next()) }
}

extension Tensor {
    /// Fills with N(mean, std²) samples drawn from `rng`.
    public func fillNormal(mean: Float = 0, std: Float, rng: inout SeededRNG) {
        let p = pointer
        for i in 0..<count { p[i] = mean + std * Float(rng.nextNormal()) }
    }

    /// Fills with U(-bound, bound) samples drawn from `rng`.
    public func fillUniform(bound: Float, rng: inout SeededRNG) {
        let p = pointer
        for i in 0..<count { p[i] = Float((rng.nextDouble() * 2 - 1) * Double(bound)) }
    }
}
