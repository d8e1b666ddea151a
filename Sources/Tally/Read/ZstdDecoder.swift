internal import CZstd
#if canImport(Glibc)
import Glibc
#endif

/// Why a zstd stream could not be decoded, with the compressed byte offset where it happened.
struct ZstdError: Error, Equatable {
    enum Kind: Equatable {
        /// The input ended inside a frame.
        case truncated
        /// libzstd reported an error; the text is `ZSTD_getErrorName`.
        case corrupt(String)
        /// Bytes where a frame should start are not a zstd or skippable frame.
        case notAFrame
    }

    var kind: Kind
    /// 0-based offset in the compressed file: where the input ended (`truncated`), or where the
    /// frame concerned starts (`corrupt`, `notAFrame`).
    var offset: Int64
    /// For `corrupt`, when known: the compressed bytes in which decoding fails (see
    /// `ZstdDecoder.failingBytes`). A damaged block (at most 128 KiB) ends there; a checksum
    /// that does not match is only found at the end of its frame, wherever the damage is.
    var failingBytes: Range<Int64>?

    /// Translates a libzstd error code; the corresponding C function is `ZSTD_getErrorName`.
    init(code: Int, frameStart: Int64) {
        kind = .corrupt(String(cString: ZSTD_getErrorName(code)))
        offset = frameStart
    }

    init(_ kind: Kind, at offset: Int64) {
        self.kind = kind
        self.offset = offset
    }

    /// The error as the read stage reports it: `.badInput`, the file, the offset in the message.
    func tallyError(displayPath: String) -> TallyError {
        let message = switch kind {
        case .truncated: "truncated zstd frame at byte \(offset)"
        case .corrupt(let name):
            "corrupt zstd frame at byte \(offset): \(name)"
                + (failingBytes.map { " (decoding fails in bytes \($0.lowerBound)–\($0.upperBound - 1))" } ?? "")
        case .notAFrame where offset == 0: "not a zstd frame at byte 0"
        case .notAFrame: "unexpected data after the last zstd frame at byte \(offset)"
        }
        return TallyError(.badInput, stage: .read, at: InputLocation(path: displayPath), message)
    }
}

/// The four-byte magic numbers that start zstd frames.
enum ZstdMagic {
    /// Whether the 4 bytes (little-endian) start a zstd frame or a skippable frame.
    static func isFrameStart(_ value: UInt32) -> Bool {
        value == UInt32(ZSTD_MAGICNUMBER)
            || value & UInt32(ZSTD_MAGIC_SKIPPABLE_MASK) == UInt32(ZSTD_MAGIC_SKIPPABLE_START)
    }

    /// Whether `bytes` (1 to 3 of them) could be the start of a frame magic number.
    static func isPrefixOfFrameStart(_ bytes: [UInt8]) -> Bool {
        let zstd: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD]
        let skippable: [UInt8] = [0x50, 0x2A, 0x4D, 0x18]
        return zip(bytes, zstd).allSatisfy { $0 == $1 }
            || zip(bytes.indices, bytes).allSatisfy { index, byte in
                index == 0 ? byte & 0xF0 == 0x50 : byte == skippable[index]
            }
    }

    /// Whether `path` names a zstd file: it ends in `.zst` or `.zstd`, in any case.
    static func isZstdName(_ path: String) -> Bool {
        let name = path.lowercased()
        return name.hasSuffix(".zst") || name.hasSuffix(".zstd")
    }

    /// Whether the file at `path` starts with a frame magic number; false for files shorter
    /// than 4 bytes. Throws `.io` when it cannot be read.
    static func fileStartsWithFrame(_ path: String, displayPath: String) throws -> Bool {
        let file = try FileBytes(path: path, displayPath: displayPath)
        var head = [UInt8](repeating: 0, count: 4)
        var count = 0
        while count < 4 {
            let read = try head.withUnsafeMutableBytes { try file.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[count...])) }
            if read == 0 { break }
            count += read
        }
        guard count == 4 else { return false }
        return isFrameStart(UInt32(head[0]) | UInt32(head[1]) << 8 | UInt32(head[2]) << 16 | UInt32(head[3]) << 24)
    }
}

/// A streaming zstd decoder over one `ZSTD_DCtx`: multi-frame input, skippable frames, with
/// truncation, corruption and trailing bytes detected.
///
/// Feed the compressed bytes in order, any chunk size; call `finish()` at the end of the input.
/// Not thread-safe: one decoder per stream. The corresponding C function is
/// `ZSTD_decompressStream`.
final class ZstdDecoder {
    private let context: OpaquePointer
    /// Compressed bytes consumed so far.
    private(set) var consumed: Int64 = 0
    /// Offset of the frame being decoded (or about to start).
    private var frameStart: Int64 = 0
    /// The first bytes of the frame at `frameStart`, until four have been seen and checked.
    private var magic: [UInt8] = []
    /// The last value `ZSTD_decompressStream` returned: 0 at a frame's clean end.
    private var lastResult = 0
    /// Whether any input has been seen since the last frame ended.
    private var inFrame = false
    /// The frame's first bytes, until `ZSTD_getFrameContentSize` can read its header.
    private var head: [UInt8] = []
    /// Whether the frame's declared content size is known (or known to be absent).
    private var headRead = false
    /// The content size the frame's header declares, if it declares one.
    private var declaredSize: UInt64?
    /// Bytes the frame has decoded to so far.
    private var frameOutput: UInt64 = 0
    /// The longest frame header (`ZSTD_FRAMEHEADERSIZE_MAX`).
    private static let longestHeader = 18

    init() {
        guard let context = ZSTD_createDCtx() else { fatalError("ZSTD_createDCtx failed: out of memory") }
        self.context = context
    }

    deinit { ZSTD_freeDCtx(context) }

    /// Decodes from `input[position...]` into `output`, advancing `position`; returns the number
    /// of bytes written to `output` (0 means: all of `input` is consumed and nothing is pending).
    ///
    /// Call again with the same input while it returns a full `output` or has input left.
    func decompress(_ input: UnsafeRawBufferPointer, position: inout Int,
                    into output: UnsafeMutableRawBufferPointer) throws(ZstdError) -> Int {
        var produced = 0
        while produced == 0 {
            if position == input.count && !(inFrame && lastResult != 0) { return 0 }
            if !inFrame || magic.count < 4 { try checkMagic(input, from: position) }
            if !headRead { readDeclaredSize(input, from: position) }
            var source = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: position)
            var sink = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
            let result = ZSTD_decompressStream(context, &sink, &source)
            if ZSTD_isError(result) != 0 {
                // zstd may reject a bad magic number before four bytes of it are in.
                if magic.count < 4 && !ZstdMagic.isPrefixOfFrameStart(magic) {
                    throw ZstdError(.notAFrame, at: frameStart)
                }
                throw ZstdError(code: result, frameStart: frameStart)
            }
            consumed += Int64(source.pos - position)
            let progressed = source.pos != position
            position = source.pos
            produced = sink.pos
            lastResult = result
            frameOutput += UInt64(sink.pos)
            if result == 0 {
                // libzstd 1.5.4's streaming decoder ends a frame at an empty last block without
                // checking the declared size (its one-shot path, used when the whole frame is in
                // the input, does check): check it here, so the read size cannot matter.
                if let declaredSize, declaredSize != frameOutput {
                    throw ZstdError(.corrupt("Data corruption detected"), at: frameStart)
                }
                head.removeAll(keepingCapacity: true)
                headRead = false
                declaredSize = nil
                frameOutput = 0
                inFrame = false
                frameStart = consumed
                magic.removeAll(keepingCapacity: true)
            } else if progressed {
                inFrame = true
            }
            // Without progress zstd is waiting for input (it errors itself when stuck otherwise).
            if !progressed && produced == 0 && position == input.count { return 0 }
        }
        return produced
    }

    /// Where decoding the frame at `frameStart` of the file at `path` fails: the 4 KiB of
    /// compressed input in which it does, when the frame is decoded again from its start 4 KiB at
    /// a time (so the answer depends on the bytes alone, not on how a run happened to read them);
    /// nil when it does not fail or the file cannot be read again. For the message of a corrupt
    /// frame, whose start says little in a file of one large frame. It decodes the frame up to
    /// the damage once more: seconds for gigabytes, and only on the way to an error.
    static func failingBytes(in path: String, frameStart: Int64) -> Range<Int64>? {
        guard let file = try? FileBytes(path: path, displayPath: path) else { return nil }
        do { try file.seek(to: frameStart) } catch { return nil }
        let decoder = ZstdDecoder()
        var input = [UInt8](repeating: 0, count: 4 << 10), output = [UInt8](repeating: 0, count: 128 << 10)
        var start = frameStart
        // Until the frame ends (the next one would start past 0).
        while decoder.frameStart == 0 {
            guard let count = try? input.withUnsafeMutableBytes({ try file.read(into: $0) }), count > 0 else { return nil }
            do {
                try input.withUnsafeBytes { input in
                    try output.withUnsafeMutableBytes { output in
                        var position = 0
                        while try decoder.decompress(UnsafeRawBufferPointer(rebasing: input[..<count]),
                                                     position: &position, into: output) > 0 {}
                    }
                }
            } catch {
                return start..<start + Int64(count)
            }
            start += Int64(count)
        }
        return nil
    }

    /// Checks that the input ended at a frame boundary, after at least one frame (an empty input
    /// is a truncated one, as the `zstd` tool says).
    func finish() throws(ZstdError) {
        if consumed == 0 { throw ZstdError(.truncated, at: 0) }
        guard inFrame else { return }
        if frameStart > 0 && magic.count < 4 && !ZstdMagic.isPrefixOfFrameStart(magic) {
            throw ZstdError(.notAFrame, at: frameStart)
        }
        throw ZstdError(.truncated, at: consumed)
    }

    /// Collects the frame's header from `input[position...]` and reads its declared content size
    /// once the header is complete. The corresponding C function is `ZSTD_getFrameContentSize`.
    private func readDeclaredSize(_ input: UnsafeRawBufferPointer, from position: Int) {
        guard consumed == frameStart + Int64(head.count) else { return }
        let available = min(Self.longestHeader - head.count, input.count - position)
        if available > 0 { head.append(contentsOf: input[position..<position + available]) }
        let size = head.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, $0.count) }
        // An error means the header is incomplete, or no zstd frame (skippable, or left to zstd).
        if size != ZSTD_CONTENTSIZE_ERROR || head.count == Self.longestHeader {
            headRead = true
            declaredSize = size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN ? nil : size
        }
    }

    /// Records the next frame's first bytes from `input[position...]` and rejects them when four
    /// are known and they are no frame magic number.
    private func checkMagic(_ input: UnsafeRawBufferPointer, from position: Int) throws(ZstdError) {
        guard consumed == frameStart + Int64(magic.count) else { return }
        let wanted = 4 - magic.count
        let available = min(wanted, input.count - position)
        if available > 0 { magic.append(contentsOf: input[position..<position + available]) }
        if magic.count == 4 {
            let value = UInt32(magic[0]) | UInt32(magic[1]) << 8 | UInt32(magic[2]) << 16 | UInt32(magic[3]) << 24
            if !ZstdMagic.isFrameStart(value) { throw ZstdError(.notAFrame, at: frameStart) }
        }
    }
}
