// Bounds on what a configuration file may describe, so a hostile or corrupt config.json is refused with
// a clear error instead of overflowing an Int (a trap) or sizing an impossible allocation. The limits
// are far above any real model (Llama-3 405B: hidden 16384, intermediate 53248, vocab 128256, 126 layers).

/// Size limits of model configurations and overflow-checked size arithmetic.
public enum ConfigLimits {
    /// Largest single dimension (vocabulary, hidden, intermediate, head size): 2^24.
    public static let maxDimension = 1 << 24
    /// Most layers a model may have (the tensor tables hold a few entries per layer).
    public static let maxLayers = 4096
    /// Most attention heads (query or key/value) or GSA memory slots.
    public static let maxHeads = 1 << 16
    /// Largest parameter count a configuration may describe: 2^42 (about 4.4 trillion).
    public static let maxParameters = 1 << 42

    /// Overflow-checked products and sums for size computations.
    public struct Arithmetic {
        struct Overflow: Error {}

        /// The product of `factors`; throws on overflow.
        public func product(_ factors: Int...) throws -> Int {
            var p = 1
            for f in factors {
                let (r, o) = p.multipliedReportingOverflow(by: f)
                if o { throw Overflow() }
                p = r
            }
            return p
        }

        /// The sum of `terms`; throws on overflow.
        public func sum(_ terms: Int...) throws -> Int {
            var s = 0
            for t in terms {
                let (r, o) = s.addingReportingOverflow(t)
                if o { throw Overflow() }
                s = r
            }
            return s
        }
    }

    /// The value `body` computes with overflow-checked arithmetic, or nil when it overflows.
    public static func checked(_ body: (Arithmetic) throws -> Int) -> Int? {
        try? body(Arithmetic())
    }
}
