// Shape utilities: element counts with overflow checks (a hostile header must not trap the process).

public enum Shape {
    /// The product of `dims`, or nil when a dimension is negative or the product overflows `Int`.
    public static func elementCount(_ dims: [Int]) -> Int? {
        var n = 1
        for d in dims {
            guard d >= 0 else { return nil }
            let (p, o) = n.multipliedReportingOverflow(by: d)
            if o { return nil }
            n = p
        }
        return n
    }

    /// Formats a shape as `[a, b, c]`.
    public static func describe(_ dims: [Int]) -> String {
        "[" + dims.map(String.init).joined(separator: ", ") + "]"
    }
}
