import FuzzSupport
import Tally

/// The input's bytes as a pipeline file: every problem `validate` finds, then `parse`, with one
/// variable set. Neither may trap; `parse` must fail exactly when `validate` reports problems,
/// with the first one's kind and message.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    let variables = ["date": "2026-11-28"]
    let problems = Pipeline.validate(yaml: text, path: "fuzz.yaml", folder: "/nonexistent/pipelines",
                                     variables: variables)
    for problem in problems { _ = problem.description }
    do {
        let pipeline = try Pipeline.parse(yaml: text, path: "fuzz.yaml", folder: "/nonexistent/pipelines",
                                          variables: variables)
        precondition(problems.isEmpty, "parse succeeded where validate found \(problems.count) problems")
        _ = pipeline.hash
    } catch {
        precondition(!problems.isEmpty, "parse failed where validate found no problem: \(error)")
        // Same kind and message; not the location: for duplicate non-scalar keys Yams places
        // the error at whichever duplicate its unstable sort puts first (see FuzzRegressionTests).
        let thrown = error as? TallyError
        precondition(thrown?.kind == problems[0].kind && thrown?.message == problems[0].message,
                     "parse threw another error than validate's first:\n\(error)\n\(problems[0])")
    }
    return 0
}
