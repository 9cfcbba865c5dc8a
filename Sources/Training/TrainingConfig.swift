// The resolved configuration of one distillation stage (what a recipe decodes into, with defaults
// filled in). Recipes/ decodes JSON5 into this; the trainer saves it beside every checkpoint so a
// resumed run can check it continues the same run.
import Conversion
import TensorCore

public struct TrainingConfig: Sendable, Equatable {
    public enum Stage: String, Sendable, CaseIterable {
        /// Stage 1: per layer, MSE between the teacher's attention output and the student mixer's output on
        /// the same (teacher) layer input; layers train independently.
        case attentionTransfer = "attention_transfer"
        /// Stage 2: end-to-end KL(teacher ‖ student) on the logits plus weighted next-token CE.
        case endToEnd = "end_to_end"
    }

    /// Which student tensors train.
    public enum TrainablePreset: String, Sendable, CaseIterable {
        /// f_proj and g_norm (the tensors the conversion creates).
        case new
        /// new + q/k/v/o of every layer.
        case attention
        /// new + LoRA adapters on q/k/v/o (merged into the weights on export).
        case lora
        /// Everything.
        case all
    }

    public struct Student: Sendable, Equatable {
        /// A converted student directory or an earlier run's final/.
        public var initPath: String
        /// When set and `initPath` does not exist yet, the teacher is converted into it first.
        public var convert: ConversionOptions?
        /// Stage 1, fresh runs: before the first step, scale each GSA layer's g_norm weight by the least-squares
        /// factor that best maps the student's attention output onto the teacher's on the first batch.
        public var calibrateOutputScale = false
        public init(initPath: String, convert: ConversionOptions? = nil, calibrateOutputScale: Bool = false) {
            self.initPath = initPath
            self.convert = convert
            self.calibrateOutputScale = calibrateOutputScale
        }
    }

    public struct Trainable: Sendable, Equatable {
        public var preset: TrainablePreset = .new
        /// Extra fla-name glob patterns to train (e.g. "model.layers.*.mlp_norm.weight").
        public var extra: [String] = []
        public var loraRank = 8
        public var loraAlpha = 16.0
        public init() {}
    }

    public struct Data: Sendable, Equatable {
        /// Text (.txt) or token (.u16/.u32) files.
        public var train: [String] = []
        public var valid: [String] = []
        public var seqLen = 512
        public var batchSize = 4
        /// Use at most this many training tokens (0 = all).
        public var maxTrainTokens = 0
        public init() {}
    }

    public struct Loss: Sendable, Equatable {
        /// Stage 1: weight of the mean per-layer MSE.
        public var mse = 1.0
        /// Stage 1: divide each layer's MSE by the mean square of its target, so layers of any scale count alike.
        public var normalizeMSE = true
        /// Stage 2: weight of KL(teacher ‖ student).
        public var kl = 1.0
        /// Stage 2: weight of next-token cross-entropy.
        public var ce = 0.0
        /// Stage 2: distillation temperature.
        public var temperature = 1.0
        /// Stage 2: compare with the teacher's k most likely tokens only (its distribution renormalised over
        /// them, the student's full softmax; the targets kept as mlx-lm's DWQ keeps them); 0 = the full vocabulary.
        public var topK = 0
        public init() {}
    }

    public struct Optimizer: Sendable, Equatable {
        public var lr = 1e-3
        public var beta1 = 0.9
        public var beta2 = 0.95
        public var eps = 1e-8
        public var weightDecay = 0.0
        /// Global gradient-norm clip (0 = off).
        public var gradClip = 1.0
        public init() {}
    }

    public struct Schedule: Sendable, Equatable {
        public var steps = 100
        public var warmupSteps = 10
        public var minLRRatio = 0.1
        public var gradAccumulation = 1
        public init() {}
    }

    public struct Eval: Sendable, Equatable {
        /// Evaluate every this many optimizer steps (0 = only at the end).
        public var every = 0
        /// Held-out tokens per evaluation.
        public var tokens = 8192
        public init() {}
    }

    /// What the trainer does when the loss diverges or becomes non-finite.
    public enum DivergenceAction: String, Sendable, CaseIterable {
        /// Stop with an error naming the last good checkpoint.
        case stop
        /// Reload the newest checkpoint, scale the learning rate by `rollbackLRFactor` and continue.
        case rollback
    }

    public struct Run: Sendable, Equatable {
        public var output: String
        public var seed: UInt64 = 0
        /// Worker threads (BLAS and t2r's loops); 0 = all cores.
        public var threads = 0
        /// Save a checkpoint every this many steps (0 = only at the end).
        public var checkpointEvery = 0
        /// Checkpoints to keep.
        public var keepLast = 2
        /// The loss diverges when it exceeds this multiple of its running minimum after warmup (0 = off).
        public var divergenceFactor = 0.0
        /// What a diverging loss, or a NaN/Inf loss or gradient, does: stop with an error, or roll back.
        public var onDivergence = DivergenceAction.stop
        /// Rollbacks allowed in one run (`onDivergence == .rollback`); the next divergence stops the run.
        public var maxRollbacks = 3
        /// Each rollback multiplies the learning rate by this factor (0 < f ≤ 1).
        public var rollbackLRFactor = 0.5
        public init(output: String) { self.output = output }
    }

    public var stage: Stage
    public var teacher: String
    public var student: Student
    public var trainable = Trainable()
    public var data = Data()
    public var loss = Loss()
    public var optimizer = Optimizer()
    public var schedule = Schedule()
    public var eval = Eval()
    public var run: Run
    /// Stage 2 with `loss.topK` > 0: a directory where the teacher's top-k logits of every micro-batch are
    /// stored the first time and read back after that (by this run, a resumed run, or another run on the
    /// same teacher and data), so the teacher's forward pass is computed once.
    public var teacherCache: String?

    public init(stage: Stage, teacher: String, student: Student, run: Run) {
        self.stage = stage
        self.teacher = teacher
        self.student = student
        self.run = run
    }

    /// Tokens one optimizer step consumes.
    public var tokensPerStep: Int { data.batchSize * data.seqLen * schedule.gradAccumulation }
}
