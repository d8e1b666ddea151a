import Dispatch

/// Runs `first` on the calling thread and `second` on a thread of Dispatch's pool, at the same
/// time, and returns both results once both are done: for the independent parts of the run's
/// tail, each of which leaves a core idle at times. (Not `concurrentPerform`: a sliced loop
/// inside one of its iterations would run on one thread only.)
///
/// `second` is waited for even when `first` throws; an error of `first` is thrown before one of
/// `second`, as if they ran one after the other.
func concurrently<First, Second: Sendable>(_ first: () throws -> First,
                                          _ second: @escaping @Sendable () throws -> Second) throws -> (First, Second) {
    let other = OtherThread(second)
    let firstResult = Result { try first() }
    let secondResult = other.result()
    return (try firstResult.get(), try secondResult.get())
}

/// A closure running on a thread of Dispatch's pool, and its result once it is done.
private final class OtherThread<Value: Sendable>: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    /// Written by the other thread before it signals `done`; read only after waiting for it.
    private var value: Result<Value, any Error>?

    init(_ body: @escaping @Sendable () throws -> Value) {
        DispatchQueue.global().async { [self] in
            value = Result { try body() }
            done.signal()
        }
    }

    /// Waits for the closure to end.
    func result() -> Result<Value, any Error> {
        done.wait()
        return value!
    }
}
