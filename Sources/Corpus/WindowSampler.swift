// A seeded sampler of training windows over a token stream: the stream is cut into non-overlapping
// windows of `length` tokens, their order shuffled with the run's seed, and consumed in order; a new
// epoch reshuffles with the next seed. Its whole state is (epoch, cursor), so a resumed run continues
// with exactly the windows an uninterrupted run would have used.
import TensorCore

public struct WindowSampler: Sendable, Equatable {
    public let tokenCount: Int
    public let length: Int
    public let seed: UInt64
    public private(set) var epoch = 0
    public private(set) var cursor = 0
    private var order: [Int] = []

    /// Windows of `length` tokens over a stream of `tokenCount` tokens.
    public init(tokenCount: Int, length: Int, seed: UInt64) {
        precondition(length >= 1 && tokenCount >= length, "WindowSampler: \(tokenCount) tokens cannot fill a window of \(length)")
        self.tokenCount = tokenCount
        self.length = length
        self.seed = seed
        order = WindowSampler.shuffled(count: tokenCount / length, seed: seed, epoch: 0)
    }

    /// Restores a saved position.
    public init(tokenCount: Int, length: Int, seed: UInt64, epoch: Int, cursor: Int) {
        self.init(tokenCount: tokenCount, length: length, seed: seed)
        self.epoch = epoch
        self.cursor = cursor
        order = WindowSampler.shuffled(count: tokenCount / length, seed: seed, epoch: epoch)
    }

    public var windowsPerEpoch: Int { order.count }

    /// The start offsets of the next `n` windows.
    public mutating func next(_ n: Int) -> [Int] {
        var out: [Int] = []
        for _ in 0..<n {
            if cursor == order.count {
                epoch += 1
                cursor = 0
                order = WindowSampler.shuffled(count: order.count, seed: seed, epoch: epoch)
            }
            out.append(order[cursor] * length)
            cursor += 1
        }
        return out
    }

    static func shuffled(count: Int, seed: UInt64, epoch: Int) -> [Int] {
        var rng = SeededRNG(seed: seed &+ 0xA076_1D64_78BD_642F &* UInt64(epoch + 1))
        var a = Array(0..<count)
        if count > 1 {
            for i in stride(from: count - 1, to: 0, by: -1) { a.swapAt(i, rng.nextInt(below: i + 1)) }
        }
        return a
    }
}
