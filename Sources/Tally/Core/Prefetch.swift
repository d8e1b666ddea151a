internal import CLinux

extension Array {
    /// Asks the CPU to start loading the cache line of element `index` (to write it, when
    /// `forWriting`), so that a lookup a few steps later finds it there. Only a hint: any index
    /// is harmless, in bounds or not, and an empty array does nothing.
    @inline(__always)
    func prefetch(_ index: Int, forWriting: Bool = false) {
        withUnsafeBufferPointer { buffer in
            if let base = buffer.baseAddress { tally_prefetch(base + index, forWriting ? 1 : 0) }
        }
    }
}
