// libFuzzer target: a JSON5 recipe, decoded (Foundation's JSON5 reader, then t2r's strict typed reader),
// with `--set` overrides applied and the resolved recipe written back, as `t2r distill --dry-run` does.
import Recipes
import TensorCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: input(data, size), as: UTF8.self)
    expectTypedErrors {
        let doc = try RecipeDocument.parse(text, file: "recipe.json5")
        expectTypedErrors {
            let c = try Recipe.decode(doc, file: "recipe.json5")
            _ = Recipe.resolvedJSON(c).serialized(indent: 2)
        }
        expectTypedErrors {
            let o = try RecipeDocument.applyOverrides(doc, ["schedule.steps=3", "run.output=x", "data.train=['a.u16']"], file: "recipe.json5")
            _ = try Recipe.decode(o, file: "recipe.json5")
        }
    }
    return 0
}
