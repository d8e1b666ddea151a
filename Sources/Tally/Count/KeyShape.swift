/// How a count key is made from a row: `[item]`, `[user]`, `[user, item]` or `[item, time]`.
///
/// A key is one `UInt64`: one part, or two parts as `(first << 32) | second`. A role part is an
/// id (local, provisional or final, depending on the stage); a time part is a bin number,
/// stored with a bias of 2³¹ so that the numeric order of packed keys is the order of
/// `counts.parquet` even for bins before the origin.
struct KeyShape: Sendable {
    enum Part: Sendable, Equatable {
        case role(Role)
        case timeBin
    }

    let parts: [Part]
    /// The roles in the key, in key order.
    let roles: [Role]
    /// For each part, the position of its role among the tokenized roles (nil for time).
    let positions: [Int?]

    init(key: [Pipeline.Count.KeyPart], tokenized: [Role]) {
        parts = key.map { $0.role.map(Part.role) ?? .timeBin }
        roles = parts.compactMap { if case .role(let role) = $0 { role } else { nil } }
        positions = parts.map { if case .role(let role) = $0 { tokenized.firstIndex(of: role)! } else { nil } }
    }

    var hasTime: Bool { parts.contains(.timeBin) }

    static let binBias: Int64 = 1 << 31

    /// Packs one or two 32-bit parts.
    @inline(__always)
    func pack(_ first: UInt32, _ second: UInt32) -> UInt64 {
        parts.count == 1 ? UInt64(first) : UInt64(first) << 32 | UInt64(second)
    }

    /// The raw 32 bits of part `part` (0 or 1) of `key`.
    @inline(__always)
    func part(_ key: UInt64, _ part: Int) -> UInt32 {
        parts.count == 1 || part == 1 ? UInt32(truncatingIfNeeded: key) : UInt32(truncatingIfNeeded: key >> 32)
    }

    /// The id in role part `part` of `key`.
    @inline(__always)
    func id(_ key: UInt64, part: Int) -> Int32 { Int32(bitPattern: self.part(key, part)) }

    /// The time bin of `key` (for `[item, time]`).
    @inline(__always)
    func bin(_ key: UInt64) -> Int64 { Int64(part(key, parts.count - 1)) - Self.binBias }

    /// The stored form of bin `j`, or nil when it does not fit in 32 bits.
    @inline(__always)
    static func storedBin(_ j: Int64) -> UInt32? {
        let (biased, overflow) = j.addingReportingOverflow(binBias)
        return !overflow && biased >= 0 && biased <= Int64(UInt32.max) ? UInt32(biased) : nil
    }

    /// `key` with each role part's id mapped by `transform(position among tokenized roles, id)`;
    /// time parts are kept.
    @inline(__always)
    func map(_ key: UInt64, _ transform: (Int, Int32) -> Int32) -> UInt64 {
        var mapped: (UInt32, UInt32) = (0, 0)
        for p in 0..<parts.count {
            let raw = part(key, p)
            let value = positions[p].map { UInt32(bitPattern: transform($0, Int32(bitPattern: raw))) } ?? raw
            if p == 0 { mapped.0 = value } else { mapped.1 = value }
        }
        return pack(mapped.0, mapped.1)
    }
}
