import Foundation
import TensorCore
import TestSupport
import Testing

@Suite struct InspectHDF5CLITests {
    @Test(.enabled(if: Fixtures.sharedAvailable, Comment(rawValue: Fixtures.sharedMissingReason)))
    func inspectKerasHubPreset() throws {
        let dir = Fixtures.shared("checkpoints/tiny-mistral-keras")
        let r = try T2RBinary.run(["inspect", dir])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("format        KerasHub HDF5 (.weights.h5)"))
        #expect(r.stdout.contains("config        \(dir)/config.json"))
        #expect(r.stdout.contains("MistralForCausalLM: 6 layers, hidden 256, 8 heads, 2 kv heads"))
        #expect(r.stdout.contains("head_dim 32"))
        #expect(r.stdout.contains("sliding window 512, untied LM head, dtype bfloat16"))
        #expect(r.stdout.contains("57 tensors, 20,909,312 parameters"))
        #expect(r.stdout.contains("problems      none"))
        let tensorLines = r.stdout.split(separator: "\n").filter { $0.hasPrefix("model.") || $0.hasPrefix("lm_head") }
        #expect(tensorLines.count == 57)
        #expect(tensorLines.allSatisfy { $0.contains(" BF16 ") })
        #expect(tensorLines.contains { $0.hasPrefix("model.layers.5.self_attn.o_proj.weight") && $0.contains("[256, 256]") })

        let j = try T2RBinary.run(["inspect", "--json", dir])
        #expect(j.status == 0)
        let v = try JSONParser.parse(j.stdout)
        #expect(v["total_tensors"]?.intValue == 57)
        #expect(v["config"]?["model_type"]?.stringValue == "mistral")
        #expect(v["config"]?["sliding_window"]?.intValue == 512)
    }

    @Test func inspectFlatFileWithConfigInAttribute() throws {
        let path = Fixtures.fixture("hdf5/flat/standalone/root-bf16.h5")
        let r = try T2RBinary.run(["inspect", path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("format        HDF5 (flat state dict)"))
        #expect(r.stdout.contains("config        \(path) (root attribute `config`)"))
        #expect(r.stdout.contains("MistralForCausalLM: 2 layers, hidden 8, 2 heads, 1 kv heads"))
        #expect(r.stdout.contains("21 tensors"))
        #expect(r.stdout.contains("problems      none"))
    }

    /// libhdf5 runs in a reader process (`t2r hdf5-reader`); one that cannot be started is a clear error.
    @Test func aMissingReaderProgramIsAClearError() throws {
        let path = Fixtures.fixture("hdf5/flat/standalone/root-bf16.h5")
        let r = try T2RBinary.run(["inspect", path], environment: ["T2R_HDF5_READER": "/nonexistent/t2r"])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("start the HDF5 reader /nonexistent/t2r") && r.stderr.contains("No such file or directory"), "\(r.stderr)")
    }

    @Test func malformedHDF5ExitsWith65() throws {
        let flat = Fixtures.fixture("hdf5/flat/malformed")
        let keras = Fixtures.fixture("hdf5/keras/malformed")
        let cases = try FileSystem.listDirectory(flat).map { "\(flat)/\($0)" } + FileSystem.listDirectory(keras).map { "\(keras)/\($0)" }
        #expect(cases.count == 11)
        for path in cases {
            let r = try T2RBinary.run(["inspect", path])
            #expect(r.status == 65, "\(path): status \(r.status), stderr \(r.stderr)")
            // Either an error naming the file, or the tensor problems on stdout.
            #expect(r.stderr.hasPrefix("Error: \(path)") || r.stdout.contains("problems      2:"), "\(path): \(r.stderr)")
        }
        let t = try T2RBinary.run(["inspect", "\(flat)/truncated.h5"])
        #expect(t.stderr.contains("cannot open as HDF5: truncated file"), "\(t.stderr)")
        let n = try T2RBinary.run(["inspect", "\(flat)/not-hdf5.h5"])
        #expect(n.stderr == "Error: \(flat)/not-hdf5.h5: not an HDF5 file (no HDF5 signature found)\n")
    }
}
