import CLibFuzzer
#if canImport(Glibc)
import Glibc
#endif

/// Runs libFuzzer's driver on `testOneInput` with the process's command line and exits with
/// its status. The corresponding C function is `LLVMFuzzerRunDriver`.
///
/// SwiftPM links every executable with its module's entry point renamed to `main`, so a harness
/// cannot rely on libFuzzer's own `main`; each harness's `main.swift` calls this instead.
public func runLibFuzzer(_ testOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, testOneInput))
}
