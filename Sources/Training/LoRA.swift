// LoRA adapters on the attention projections (q, k, v, o of every layer), in the "merged" form: the
// model's weight holds W = W0 + s·B·A (s = α/r) during training, the backward computes the full dW as
// for any weight, and the adapters take dA = s·Bᵀ·dW, dB = s·dW·Aᵀ. Only A and B are optimised; the
// exported student simply has the merged weights. Init as PEFT: A ~ U(±1/√in), B = 0, so training
// starts exactly at W0.
import CheckpointIO
import Glibc
import Models
import TensorCore

public final class LoRAAdapters: @unchecked Sendable {
    public struct Target: Sendable {
        public let tensor: StudentTensor
        /// W0, the frozen base weight [out, in].
        public let base: Tensor
        public let aName: String  // [r, in]
        public let bName: String  // [out, r]
    }

    public let rank: Int
    public let scale: Float
    public let targets: [Target]
    public let params: ParameterBuffer
    public let optimizer: AdamW
    let model: StudentModel

    public static func isTarget(_ t: StudentTensor) -> Bool { [.qProj, .kProj, .vProj, .oProj].contains(t.kind) }

    public init(model: StudentModel, rank: Int, alpha: Double, seed: UInt64, optimizer config: AdamWConfig) {
        self.model = model
        self.rank = rank
        scale = Float(alpha / Double(rank))
        let ts = StudentTensor.all(for: model.config).filter(LoRAAdapters.isTarget)
        var specs: [(name: String, shape: [Int], trainable: Bool)] = []
        var targets: [Target] = []
        for t in ts {
            let w = model.value(t)
            let (out, inDim) = (w.shape[0], w.shape[1])
            let a = t.flaName.replacingSuffix(".weight", with: ".lora_A.weight"), b = t.flaName.replacingSuffix(".weight", with: ".lora_B.weight")
            specs.append((a, [rank, inDim], true))
            specs.append((b, [out, rank], true))
            targets.append(Target(tensor: t, base: w.copy(), aName: a, bName: b))
        }
        self.targets = targets
        params = ParameterBuffer(specs)
        var rng = SeededRNG(seed: seed &+ 0x10AA)
        for t in targets {
            params.value(t.aName).fillUniform(bound: 1 / Float(t.base.shape[1]).squareRoot(), rng: &rng)
        }
        optimizer = AdamW(params: params, config: config)
    }

    /// W = W0 + s·B·A for every target.
    public func merge() {
        for t in targets {
            let w = model.value(t.tensor)
            w.assign(t.base)
            matmulAB(w, params.value(t.bName), params.value(t.aName), alpha: scale, accumulate: true)
        }
    }

    /// dA += s·Bᵀ·dW and dB += s·dW·Aᵀ from the merged weights' gradients.
    public func backward() {
        for t in targets {
            guard let dw = model.grad(t.tensor) else { preconditionFailure("LoRA target \(t.tensor.flaName) has no gradient") }
            matmulAtB(params.grad(t.aName)!, params.value(t.bName), dw, alpha: scale, accumulate: true)
            matmulABt(params.grad(t.bName)!, dw, params.value(t.aName), alpha: scale, accumulate: true)
        }
    }

    public func save(to path: String) throws {
        var entries: [SafetensorsEntry] = []
        for t in targets {
            entries.append(SafetensorsEntry(name: "base." + t.tensor.flaName, tensor: t.base))
            entries.append(SafetensorsEntry(name: t.aName, tensor: params.value(t.aName)))
            entries.append(SafetensorsEntry(name: t.bName, tensor: params.value(t.bName)))
        }
        try SafetensorsWriter.write(entries, metadata: ["format": "t2r-lora", "rank": String(rank), "scale": "\(scale)"], to: path)
    }

    public func load(from path: String) throws {
        let f = try SafetensorsFile(path: path)
        for t in targets {
            t.base.assign(try f.loadFloat32("base." + t.tensor.flaName))
            params.value(t.aName).assign(try f.loadFloat32(t.aName))
            params.value(t.bName).assign(try f.loadFloat32(t.bName))
        }
    }
}

extension String {
    func replacingSuffix(_ suffix: String, with r: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) + r : self + r
    }
}
