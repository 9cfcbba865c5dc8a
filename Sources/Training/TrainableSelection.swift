// Which student tensors train in a stage, by preset and by fla-name glob patterns.
import Models

public enum TrainableSelection {
    /// The predicate for `preset` plus `extra` patterns ('*' matches any run of characters).
    public static func predicate(_ t: TrainingConfig.Trainable) -> (StudentTensor) -> Bool {
        let extra = t.extra
        return { st in
            if extra.contains(where: { globMatch($0, st.flaName) }) { return true }
            switch t.preset {
            case .new: return st.kind == .fProj || st.kind == .gNorm
            // LoRA: q/k/v/o get gradients (which feed their adapters) but only the adapters are optimised.
            case .attention, .lora: return [.fProj, .gNorm, .qProj, .kProj, .vProj, .oProj].contains(st.kind)
            case .all: return true
            }
        }
    }

    /// Shell-style match with '*' (any characters) and '?' (one character).
    public static func globMatch(_ pattern: String, _ s: String) -> Bool {
        let p = Array(pattern), t = Array(s)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count && (p[pi] == "?" || p[pi] == t[ti]) {
                pi += 1
                ti += 1
            } else if pi < p.count && p[pi] == "*" {
                star = pi
                mark = ti
                pi += 1
            } else if star >= 0 {
                pi = star + 1
                mark += 1
                ti = mark
            } else {
                return false
            }
        }
        while pi < p.count && p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}
