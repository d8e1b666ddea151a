import Foundation
import Testing
@testable import Tally

@Suite struct SHA256Tests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func knownVectorsHashToTheirPublishedDigests(text: String, digest: String) {
        #expect(SHA256.hex(SHA256.hash(Array(text.utf8))) == digest)
    }

    @Test func aMillionAsHashToThePublishedDigest() {
        let digest = SHA256.hex(SHA256.hash([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)))
        #expect(digest == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// `python3 -c "import hashlib; print(hashlib.sha256(bytes((i*31+7)%251 for i in range(1<<20))).hexdigest())"`
    static let megabyteDigest = "1c59b8670027384143781a8a8bff2f3b44bd8818d0f53b13b064c2375a1afe38"
    static let megabyte = (0..<(1 << 20)).map { UInt8(($0 * 31 + 7) % 251) }

    @Test func aMegabyteMatchesPythonsHashlib() throws {
        #expect(SHA256.hex(SHA256.hash(Self.megabyte)) == Self.megabyteDigest)
        // Also ask python3 itself when it is on the machine.
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = ["python3", "-c",
                            "import hashlib; print(hashlib.sha256(bytes((i*31+7)%251 for i in range(1<<20))).hexdigest())"]
        let pipe = Pipe()
        python.standardOutput = pipe
        python.standardError = FileHandle.nullDevice
        guard (try? python.run()) != nil else { return }
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        python.waitUntilExit()
        guard python.terminationStatus == 0 else { return }
        let text = String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(text == Self.megabyteDigest)
    }

    @Test(arguments: [1, 3, 63, 64, 65, 1000, 4096])
    func anyChunkSizeGivesTheSameDigest(chunk: Int) {
        var hasher = SHA256()
        var start = 0
        while start < Self.megabyte.count {
            let end = min(start + chunk, Self.megabyte.count)
            hasher.update(Self.megabyte[start..<end])
            start = end
        }
        #expect(SHA256.hex(hasher.finalize()) == Self.megabyteDigest)
    }

    @Test func paddingBoundariesAgreeWithOneShotHashing() {
        // 55, 56 and 64 bytes straddle the length field's block boundary.
        for count in [55, 56, 57, 63, 64, 65, 119, 120] {
            let bytes = Array(Self.megabyte.prefix(count))
            var split = SHA256()
            split.update(bytes.prefix(count / 2))
            split.update(bytes.dropFirst(count / 2))
            #expect(split.finalize() == SHA256.hash(bytes), "length \(count)")
        }
    }
}
