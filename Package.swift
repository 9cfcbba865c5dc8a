// swift-tools-version:6.0
// t2r: turn a pretrained Mistral/Llama-style Transformer into a Gated Slot Attention (GSA) RNN and
// distil the teacher into it, on the CPU. No third-party Swift packages; OpenBLAS and HDF5 come from
// Debian (`apt-get install libopenblas-dev libhdf5-dev pkg-config`).
import PackageDescription

// Kernels are written for AVX2 + FMA + F16C (x86-64-v3; every x86 server CPU since 2015). The binary
// refuses to start on a CPU without them (see T2RCLI/CPUCheck.swift). Build with T2R_PORTABLE=1 for a
// baseline (SSE2) build that runs anywhere, about 2x slower in elementwise kernels.
let portable = Context.environment["T2R_PORTABLE"] == "1"
let kernelFlags: [SwiftSetting] = portable ? [] : [.unsafeFlags(["-target-cpu", "haswell"]), .define("T2R_X86_64_V3")]

let package = Package(
    name: "t2r",
    products: [
        .executable(name: "t2r", targets: ["T2RCLI"]),
    ],
    targets: [
        // MARK: C system libraries (Debian: libopenblas-dev, libhdf5-dev)
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5-serial", providers: [.apt(["libhdf5-dev"])]),

        // MARK: Library modules, bottom-up
        .target(name: "TensorCore", dependencies: ["COpenBLAS"], swiftSettings: kernelFlags),
        .target(name: "CheckpointIO", dependencies: ["TensorCore", "CHDF5"], swiftSettings: kernelFlags),
        .target(name: "Ops", dependencies: ["TensorCore"], swiftSettings: kernelFlags),
        .target(name: "Tokenization", dependencies: ["TensorCore"], swiftSettings: kernelFlags),
        .target(name: "Models", dependencies: ["Ops", "TensorCore"], swiftSettings: kernelFlags),
        .target(name: "Corpus", dependencies: ["TensorCore", "Tokenization"], swiftSettings: kernelFlags),
        .target(name: "Conversion", dependencies: ["Models", "CheckpointIO", "Tokenization"],
                swiftSettings: kernelFlags),
        .target(name: "Training", dependencies: ["Models", "Ops", "Corpus", "CheckpointIO", "Conversion"],
                swiftSettings: kernelFlags),
        .target(name: "Recipes", dependencies: ["Models", "Training", "Corpus", "Conversion"],
                swiftSettings: kernelFlags),
        .target(name: "Reporting", dependencies: ["Models", "Ops", "Training", "Tokenization", "TensorCore"], swiftSettings: kernelFlags),
        .executableTarget(
            name: "T2RCLI",
            dependencies: ["TensorCore", "CheckpointIO", "Ops", "Models", "Conversion", "Tokenization",
                           "Corpus", "Training", "Recipes", "Reporting"],
            swiftSettings: kernelFlags),
        // A measurement tool for the GSA core op (`swift run -c release gsa-bench`); not part of the product.
        .executableTarget(name: "gsa-bench", dependencies: ["Ops", "TensorCore"], path: "tools/bench/GSABench",
                          swiftSettings: kernelFlags),

        // MARK: Test support (not a product)
        .target(name: "TestSupport", dependencies: ["TensorCore", "CheckpointIO"], swiftSettings: kernelFlags),

        // MARK: Tests mirror the modules
        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore", "TestSupport"]),
        .testTarget(name: "CheckpointIOTests", dependencies: ["CheckpointIO", "TestSupport"]),
        .testTarget(name: "OpsTests", dependencies: ["Ops", "TestSupport"]),
        .testTarget(name: "TokenizationTests", dependencies: ["Tokenization", "Conversion", "CheckpointIO", "TensorCore", "TestSupport"]),
        .testTarget(name: "ConversionTests", dependencies: ["Conversion", "CheckpointIO", "Models", "TestSupport"]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "Conversion", "CheckpointIO", "TestSupport"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Recipes", "Models", "Corpus", "Conversion", "CheckpointIO", "TestSupport"]),
        .testTarget(name: "ReportingTests", dependencies: ["Reporting", "Training", "Models", "Conversion", "TensorCore", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["T2RCLI", "CheckpointIO", "TestSupport"]),
        .testTarget(name: "FuzzRegressionTests", dependencies: ["CHDF5", "CheckpointIO", "Conversion", "Models", "Recipes", "Tokenization", "TestSupport"]),
    ]
)
