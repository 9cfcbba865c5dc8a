// Chart axes for the SVG line charts: linear or logarithmic scales, "nice" tick positions (1-2-2.5-5 ×
// 10^k steps on linear axes; decades, then 1-2-5, then every mantissa on log axes, whichever first gives
// at least three ticks, or evenly spaced ones when a log axis spans too little for that) or ticks the
// caller names, and compact tick labels.
import Foundation

/// How values map to positions along an axis.
public enum AxisScale: Sendable, Equatable {
    case linear
    /// Base-10 logarithmic; values ≤ 0 cannot be drawn and are left out.
    case logarithmic
}

/// A tick: a value and its label.
public struct AxisTick: Sendable, Equatable {
    /// Where the tick sits, in data units.
    public let value: Double
    /// The text under (or beside) the tick.
    public let label: String
    /// A tick at `value` labelled `label`.
    public init(_ value: Double, _ label: String) {
        self.value = value
        self.label = label
    }
}

/// An axis as the caller describes it.
public struct ChartAxis: Sendable, Equatable {
    /// The axis title.
    public var label: String
    /// Linear or logarithmic.
    public var scale: AxisScale
    /// Linear axes: stretch the range to include 0.
    public var includeZero: Bool
    /// Ticks to use instead of computed ones.
    public var ticks: [AxisTick]?

    /// An axis titled `label`.
    public init(_ label: String, scale: AxisScale = .linear, includeZero: Bool = false, ticks: [AxisTick]? = nil) {
        self.label = label
        self.scale = scale
        self.includeZero = includeZero
        self.ticks = ticks
    }

    /// Whether `v` can be placed on this axis.
    public func accepts(_ v: Double) -> Bool { v.isFinite && (scale == .linear || v > 0) }

    /// The domain and ticks for data values `values` (only those the axis accepts are used).
    public func layout(_ values: [Double]) -> AxisLayout {
        var data = values.filter(accepts)
        if let ticks { data += ticks.map(\.value).filter(accepts) }
        switch scale {
        case .linear:
            if includeZero { data.append(0) }
            var lo = data.min() ?? 0, hi = data.max() ?? 1
            if lo == hi {
                let d = lo == 0 ? 1 : abs(lo) * 0.1
                lo -= d
                hi += d
            }
            if let ticks {
                // Named ticks (e.g. categories): keep the outer points and their labels off the frame.
                let pad = 0.06 * (hi - lo)
                return AxisLayout(scale: .linear, lower: lo - pad, upper: hi + pad, ticks: ticks)
            }
            let step = AxisLayout.niceStep((hi - lo) / 5)
            let dlo = (lo / step).rounded(.down) * step, dhi = (hi / step).rounded(.up) * step
            return AxisLayout(scale: .linear, lower: dlo, upper: dhi, ticks: AxisLayout.linearTicks(dlo, dhi, step: step))
        case .logarithmic:
            var lo = data.min() ?? 1, hi = data.max() ?? 10
            if lo == hi {
                lo /= 2
                hi *= 2
            }
            let span = log10(hi) - log10(lo), pad = 0.04 * max(span, 0.3)
            let dlo = pow(10, log10(lo) - pad), dhi = pow(10, log10(hi) + pad)
            var computed: [AxisTick] = []
            for mantissas in [[1.0], [1, 2, 5], [1, 2, 3, 4, 5, 6, 7, 8, 9]] {
                computed = []
                var e = log10(dlo).rounded(.down)
                while e <= log10(dhi).rounded(.up) {
                    for m in mantissas {
                        let v = m * pow(10, e)
                        if v >= dlo && v <= dhi { computed.append(AxisTick(v, AxisLayout.label(v))) }
                    }
                    e += 1
                }
                if computed.count >= 3 { break }
            }
            // A data line far above the last tick (or below the first) would have no value to read against
            // (perplexity 100 … 190 with ticks up to 100): add the nearest finer nice value there.
            let logSpan = log10(dhi) - log10(dlo)
            let finer: [Double] = [1, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 9]
            if let last = computed.last, (log10(dhi) - log10(last.value)) > 0.25 * logSpan {
                let e = log10(dhi).rounded(.down)
                if let m = finer.last(where: { $0 * pow(10, e) <= dhi }), log10(m * pow(10, e)) - log10(last.value) > 0.1 * logSpan {
                    computed.append(AxisTick(m * pow(10, e), AxisLayout.label(m * pow(10, e))))
                }
            }
            if let first = computed.first, (log10(first.value) - log10(dlo)) > 0.25 * logSpan {
                let e = log10(dlo).rounded(.down)
                let candidates = finer.map { $0 * pow(10, e) } + [10 * pow(10, e)]
                if let v = candidates.first(where: { $0 >= dlo }), log10(first.value) - log10(v) > 0.1 * logSpan {
                    computed.insert(AxisTick(v, AxisLayout.label(v)), at: 0)
                }
            }
            if computed.count < 4 {
                // Less than about half a decade: evenly spaced ticks read better.
                let step = AxisLayout.niceStep((dhi - dlo) / 4)
                let even = AxisLayout.linearTicks((dlo / step).rounded(.up) * step, dhi, step: step).filter { $0.value > 0 }
                if even.count > computed.count { computed = even }
            }
            if computed.count < 2 { computed = [AxisTick(dlo, AxisLayout.label(dlo)), AxisTick(dhi, AxisLayout.label(dhi))] }
            return AxisLayout(scale: .logarithmic, lower: dlo, upper: dhi, ticks: ticks ?? computed)
        }
    }
}

/// A laid-out axis: its domain and ticks, and the mapping of values to [0, 1].
public struct AxisLayout: Sendable, Equatable {
    /// The scale the layout maps with.
    public let scale: AxisScale
    /// The domain start (data units).
    public let lower: Double
    /// The domain end (data units).
    public let upper: Double
    /// The ticks to draw (those inside the domain are drawn).
    public let ticks: [AxisTick]

    /// The fraction of the axis length at which `v` lies (0 at `lower`, 1 at `upper`).
    public func fraction(_ v: Double) -> Double {
        switch scale {
        case .linear: return (v - lower) / (upper - lower)
        case .logarithmic: return (log10(v) - log10(lower)) / (log10(upper) - log10(lower))
        }
    }

    /// Ticks lower, lower + step, … up to `upper`.
    static func linearTicks(_ lower: Double, _ upper: Double, step: Double) -> [AxisTick] {
        stride(from: lower, through: upper + step * 1e-9, by: step).map { v in
            let t = abs(v) < step * 1e-9 ? 0 : v
            return AxisTick(t, label(t))
        }
    }

    /// The smallest of 1, 2, 2.5, 5 × 10^k that is ≥ `raw`.
    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0 && raw.isFinite else { return 1 }
        let e = log10(raw).rounded(.down), base = pow(10, e), f = raw / base
        let n: Double = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10
        return n * base
    }

    /// "512", "0.25", "1.5e+06": integers as they are (below a billion), others with 3 significant digits.
    public static func label(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e9 { return String(Int(v)) }
        var s = String(format: "%.3g", v)
        if s.contains("e") { return s }
        if s.contains(".") {
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
        }
        return s
    }
}
