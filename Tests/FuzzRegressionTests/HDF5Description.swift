// The HDF5 fuzz target's input: a structure description for the HDF5 metadata path. libhdf5 (Debian's C
// library, not instrumented, not ours) parses the container; t2r's code is what it does with what libhdf5 reports: dataset names, shapes,
// element types, storage, string attributes (the flat layout's root `config` JSON, KerasHub `vars`
// groups, `dtype = "bfloat16"` tags), layout detection, name mapping and dataset reads. So the fuzz input
// is a structure description, written by libhdf5 into a valid file, which t2r then opens as `t2r inspect`
// and `t2r distill` would. (Raw-byte corruption of the container reaches libhdf5's own parser; see
// README "Hostile inputs" for how t2r contains crashes there.)
//
// Description: one item per line, fields separated by single spaces, the last field running to the end
// of the line (`\n` in it is a newline):
//   file NAME                      the weights file's name (default model.h5; model.weights.h5 = KerasHub)
//   json TEXT                      a config.json beside the file
//   group PATH                     a group (parents created)
//   dset PATH TYPE DIMS [OPTS]     a dataset; TYPE f16|f32|f64|bf16|opaque|i32|str; DIMS "8,12" ("-" scalar);
//                                  OPTS: chunk (chunked, gzip), empty (chunked, nothing written),
//                                  nan (values NaN/Inf)
//   attr OBJECT NAME TEXT          a string attribute of OBJECT ("." = root)
//   attrs OBJECT NAME A|B|C        a string-list attribute
//   attri OBJECT NAME N            an integer attribute
//   elink PATH FILE OBJECT         an external link (to another file)
//   external PATH FILE             a float32 dataset [4] whose raw data lives in another file
@preconcurrency import CHDF5
import CheckpointIO
import Glibc
import TensorCore

/// Elements one fuzz input may write in total (keeps each execution fast; larger *declared* shapes are
/// still possible with `empty`).
private let maxWrittenElements = 1 << 16

/// Writes an HDF5 file through libhdf5 (so it is always well-formed at the container level).

private final class H5Builder {
    let file: hid_t
    var written = 0
    init?(_ path: String) {
        _ = H5open()
        _ = H5Eset_auto2(shim_H5E_DEFAULT(), nil, nil)
        file = H5Fcreate(path, 0x0002 /* H5F_ACC_TRUNC */, shim_H5P_DEFAULT(), shim_H5P_DEFAULT())
        if file < 0 { return nil }
    }
    deinit { _ = H5Fclose(file) }

    func group(_ path: String) {
        let lcpl = H5Pcreate(H5P_CLS_LINK_CREATE_ID_g)
        _ = H5Pset_create_intermediate_group(lcpl, 1)
        let g = H5Gcreate2(file, path, lcpl, shim_H5P_DEFAULT(), shim_H5P_DEFAULT())
        if g >= 0 { _ = H5Gclose(g) }
        _ = H5Pclose(lcpl)
    }

    func stringAttribute(_ object: String, _ name: String, _ values: [String]) {
        let type = H5Tcopy(H5T_C_S1_g)
        _ = H5Tset_size(type, shim_H5T_VARIABLE())
        _ = H5Tset_cset(type, H5T_CSET_UTF8)
        var dims = [hsize_t(values.count)]
        let space = values.count == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dims, nil)
        let a = H5Acreate_by_name(file, object, name, type, space, shim_H5P_DEFAULT(), shim_H5P_DEFAULT(), shim_H5P_DEFAULT())
        if a >= 0 {
            var cs = values.map { strdup($0) }
            _ = cs.withUnsafeMutableBufferPointer { H5Awrite(a, type, $0.baseAddress) }
            cs.forEach { free($0) }
            _ = H5Aclose(a)
        }
        _ = H5Sclose(space)
        _ = H5Tclose(type)
    }

    func intAttribute(_ object: String, _ name: String, _ value: Int32) {
        let space = H5Screate(H5S_SCALAR)
        let a = H5Acreate_by_name(file, object, name, H5T_STD_I32LE_g, space, shim_H5P_DEFAULT(), shim_H5P_DEFAULT(), shim_H5P_DEFAULT())
        if a >= 0 {
            var v = value
            _ = H5Awrite(a, H5T_NATIVE_INT_g, &v)
            _ = H5Aclose(a)
        }
        _ = H5Sclose(space)
    }

    func dataset(_ path: String, type name: String, dims: [Int], options: Set<String>) {
        guard dims.allSatisfy({ $0 >= 0 && $0 < 1 << 40 }) else { return }
        var d = dims.map { hsize_t($0) }
        let count = dims.reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }
        let writes = !options.contains("empty")
        if writes && (count > maxWrittenElements - written) { return }
        let space = dims.isEmpty ? H5Screate(H5S_SCALAR) : H5Screate_simple(Int32(dims.count), &d, nil)
        defer { _ = H5Sclose(space) }
        let dcpl = H5Pcreate(H5P_CLS_DATASET_CREATE_ID_g)
        defer { _ = H5Pclose(dcpl) }
        if (options.contains("chunk") || !writes) && !dims.isEmpty {
            var c = dims.map { hsize_t(max(1, min($0, 64))) }
            _ = H5Pset_chunk(dcpl, Int32(dims.count), &c)
            if options.contains("chunk") { _ = H5Pset_deflate(dcpl, 1) }
        }
        let lcpl = H5Pcreate(H5P_CLS_LINK_CREATE_ID_g)
        _ = H5Pset_create_intermediate_group(lcpl, 1)
        defer { _ = H5Pclose(lcpl) }
        let fileType: hid_t
        switch name {
        case "f16":
            fileType = H5Tcopy(H5T_IEEE_F32LE_g)
            _ = H5Tset_fields(fileType, 15, 10, 5, 0, 10)
            _ = H5Tset_size(fileType, 2)
            _ = H5Tset_ebias(fileType, 15)
        case "f32": fileType = H5Tcopy(H5T_IEEE_F32LE_g)
        case "f64": fileType = H5Tcopy(H5T_IEEE_F64LE_g)
        case "bf16", "opaque":
            fileType = H5Tcreate(H5T_OPAQUE, 2)
            _ = H5Tset_tag(fileType, "bfloat16")
        case "i32": fileType = H5Tcopy(H5T_STD_I32LE_g)
        case "str":
            fileType = H5Tcopy(H5T_C_S1_g)
            _ = H5Tset_size(fileType, 4)
        default: return
        }
        defer { _ = H5Tclose(fileType) }
        let ds = H5Dcreate2(file, path, fileType, space, lcpl, dcpl, shim_H5P_DEFAULT())
        guard ds >= 0 else { return }
        defer { _ = H5Dclose(ds) }
        if name == "bf16" { stringAttributeOn(ds, "dtype", "bfloat16") }
        guard writes, count > 0 else { return }
        written += count
        let nan = options.contains("nan")
        var values = (0..<count).map { i -> Float in nan ? [Float.nan, .infinity, -.infinity][i % 3] : Float(i % 97) * 0.01 - 0.4 }
        switch name {
        case "bf16", "opaque":
            var words = values.map { UInt16($0.bitPattern >> 16) }
            _ = H5Dwrite(ds, fileType, shim_H5S_ALL(), shim_H5S_ALL(), shim_H5P_DEFAULT(), &words)
        case "i32":
            var ints = values.map { Int32(exactly: ($0 * 100).rounded()) ?? 0 }
            _ = H5Dwrite(ds, H5T_NATIVE_INT_g, shim_H5S_ALL(), shim_H5S_ALL(), shim_H5P_DEFAULT(), &ints)
        case "str":
            var bytes = [UInt8](repeating: 0x41, count: count * 4)
            _ = H5Dwrite(ds, fileType, shim_H5S_ALL(), shim_H5S_ALL(), shim_H5P_DEFAULT(), &bytes)
        default:
            _ = H5Dwrite(ds, shim_H5T_NATIVE_FLOAT(), shim_H5S_ALL(), shim_H5S_ALL(), shim_H5P_DEFAULT(), &values)
        }
    }

    private func stringAttributeOn(_ object: hid_t, _ name: String, _ value: String) {
        let type = H5Tcopy(H5T_C_S1_g)
        _ = H5Tset_size(type, value.utf8.count + 1)
        let space = H5Screate(H5S_SCALAR)
        let a = H5Acreate2(object, name, type, space, shim_H5P_DEFAULT(), shim_H5P_DEFAULT())
        if a >= 0 {
            _ = value.withCString { H5Awrite(a, type, $0) }
            _ = H5Aclose(a)
        }
        _ = H5Sclose(space)
        _ = H5Tclose(type)
    }

    func externalLink(_ path: String, file other: String, object: String) {
        _ = H5Lcreate_external(other, object, file, path, shim_H5P_DEFAULT(), shim_H5P_DEFAULT())
    }

    /// A float32 [4] dataset whose raw data is stored in `other` (H5Pset_external).
    func externalStorage(_ path: String, file other: String) {
        var d: [hsize_t] = [4]
        let space = H5Screate_simple(1, &d, nil)
        let dcpl = H5Pcreate(H5P_CLS_DATASET_CREATE_ID_g)
        _ = H5Pset_external(dcpl, other, 0, 16)
        let ds = H5Dcreate2(file, path, H5T_IEEE_F32LE_g, space, shim_H5P_DEFAULT(), dcpl, shim_H5P_DEFAULT())
        if ds >= 0 { _ = H5Dclose(ds) }
        _ = H5Pclose(dcpl)
        _ = H5Sclose(space)
    }
}

/// Splits `line` into at most `n` fields at single spaces (the last field keeps the rest).
private func fields(_ line: Substring, _ n: Int) -> [String] {
    line.split(separator: " ", maxSplits: n - 1, omittingEmptySubsequences: false).map(String.init)
}

/// A structure description (see the file header), parsed line by line; unknown lines are ignored.
struct HDF5Description {
    var fileName = "model.h5"
    var configJSON: String?
    var items: [[String]] = []

    init(_ text: String) {
        for line in text.split(separator: "\n").prefix(512) {
            let f = fields(line, 2)
            switch f[0] {
            case "file" where f.count == 2: fileName = f[1]
            case "json" where f.count == 2: configJSON = f[1].replacingOccurrences(of: "\\n", with: "\n")
            default: items.append(fields(line, 5))
            }
        }
    }

    /// Writes the file (and config.json) into `dir`; returns the file's path, or nil when the description
    /// names an unusable file.
    func write(in dir: String) -> String? {
        guard fileName.hasSuffix(".h5"), ShardedSafetensors.isSafeFileName(fileName) else { return nil }
        if let configJSON { try? writeFileAtomically(FileSystem.join(dir, "config.json"), text: configJSON) }
        let path = FileSystem.join(dir, fileName)
        // libhdf5 is t2r's to serialise (other tests read HDF5 files, and fork readers, meanwhile).
        return HDF5Library.locked { build(path) ? path : nil }
    }

    private func build(_ path: String) -> Bool {
        guard let b = H5Builder(path) else { return false }
        for f in items {
            switch (f[0], f.count) {
            case ("group", 2...): b.group(f[1])
            case ("dset", 4...):
                let parts = f[3].split(separator: ",")
                let dims = f[3] == "-" ? [] : parts.compactMap { Int($0) }
                if f[3] != "-" && dims.count != parts.count { continue }
                b.dataset(f[1], type: f[2], dims: Array(dims.prefix(8)),
                          options: Set(f.dropFirst(4).flatMap { $0.split(separator: " ").map(String.init) }))
            case ("attr", 4...): b.stringAttribute(f[1], f[2], [f.dropFirst(3).joined(separator: " ").replacingOccurrences(of: "\\n", with: "\n")])
            case ("attrs", 4...):
                b.stringAttribute(f[1], f[2], f.dropFirst(3).joined(separator: " ").split(separator: "|", omittingEmptySubsequences: false).map(String.init))
            case ("attri", 4...): b.intAttribute(f[1], f[2], Int32(f[3]) ?? 0)
            case ("elink", 4...): b.externalLink(f[1], file: f[2], object: f[3])
            case ("external", 3...): b.externalStorage(f[1], file: f[2])
            default: continue
            }
        }
        return true
    }
}
