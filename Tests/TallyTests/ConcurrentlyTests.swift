import Foundation
import Synchronization
import Testing
@testable import Tally

/// `concurrently`: both results, the second always waited for, errors in the order one thread
/// would meet them.
@Suite struct ConcurrentlyTests {
    struct Failure: Error, Equatable { var which: Int }

    @Test func givesBothResults() throws {
        let (first, second) = try concurrently({ (0..<1000).reduce(0, +) }, { "done" })
        #expect(first == 499_500 && second == "done")
    }

    /// The second closure has ended by the time the first one's error is thrown, and the first
    /// one's error wins.
    @Test func waitsForTheSecondWhenTheFirstThrows() {
        let ended = Atomic<Bool>(false)
        #expect(throws: Failure(which: 1)) {
            _ = try concurrently({ throw Failure(which: 1) }, { () throws -> Int in
                Thread.sleep(forTimeInterval: 0.05)
                ended.store(true, ordering: .sequentiallyConsistent)
                throw Failure(which: 2)
            })
        }
        let hasEnded = ended.load(ordering: .sequentiallyConsistent)
        #expect(hasEnded)
    }

    @Test func throwsTheSecondsErrorWhenTheFirstSucceeds() {
        #expect(throws: Failure(which: 2)) {
            _ = try concurrently({ 1 }, { () throws -> Int in throw Failure(which: 2) })
        }
    }
}
