#if canImport(Glibc)
import Glibc
#endif

/// A synthetic interaction log in the shape of `tools/gen_interactions.py`:
/// `user_id,item_id,event,timestamp,weight`, about 46 bytes a row.
///
/// Items are log-uniform over the catalogue (a long tail), users uniform, events
/// view/click/cart/purchase at 70/20/7/3 %, timestamps non-decreasing over 30 days, weights a
/// dwell time with three decimals. The same seed and row count always give the same bytes.
public struct InteractionLog {
    public static let header = "user_id,item_id,event,timestamp,weight"

    public var rows: Int
    public var seed: UInt64 = 7
    public var items = 1_000_000
    public var users = 300_000
    /// The four event names; `longEventNames` swaps them for names longer than 15 UTF-8 bytes
    /// (Swift's small-string limit).
    public var events = ["view", "click", "cart", "purchase"]

    public static let longEventNames = ["view_product_page", "click_recommendation", "add_to_cart_button", "purchase_completed"]
    /// Every event name either variant uses.
    public static let eventNames = ["view", "click", "cart", "purchase"] + longEventNames

    public init(rows: Int, seed: UInt64 = 7) {
        self.rows = rows
        self.seed = seed
    }

    /// The log with its header line, as plain CSV bytes.
    public func csv() -> [UInt8] {
        var random = SeededRandom(seed: seed)
        var out: [UInt8] = []
        out.reserveCapacity(64 + rows * 50)
        out.append(contentsOf: Self.header.utf8)
        out.append(0x0A)
        let eventBytes = events.map { Array($0.utf8) }
        let start = 1_732_000_000, span = 86_400 * 30
        let logItems = log(Double(items))
        for row in 0..<rows {
            let user = Int(random.next() % UInt64(users))
            let item = min(items - 1, Int(exp(random.unit() * logItems)) - 1)
            let p = random.unit()
            let event = p < 0.7 ? 0 : p < 0.9 ? 1 : p < 0.97 ? 2 : 3
            let time = start + span * row / max(rows, 1)
            let millis = Int((-20.0 * log(1 - random.unit()) * 1000).rounded())
            out.append(UInt8(ascii: "u")); appendDecimal(user, width: 7, to: &out)
            out.append(contentsOf: ",sku-".utf8); appendHex(item, width: 8, to: &out)
            out.append(UInt8(ascii: ",")); out.append(contentsOf: eventBytes[event])
            out.append(UInt8(ascii: ",")); appendDecimal(time, width: 1, to: &out)
            out.append(UInt8(ascii: ",")); appendDecimal(millis / 1000, width: 1, to: &out)
            out.append(UInt8(ascii: ".")); appendDecimal(millis % 1000, width: 3, to: &out)
            out.append(0x0A)
        }
        return out
    }
}

/// Appends `value` (≥ 0) in decimal, zero-padded to `width` digits.
func appendDecimal(_ value: Int, width: Int, to out: inout [UInt8]) {
    var digits: [UInt8] = []
    var v = value
    repeat { digits.append(UInt8(48 + v % 10)); v /= 10 } while v > 0
    while digits.count < width { digits.append(48) }
    out.append(contentsOf: digits.reversed())
}

/// Appends `value` (≥ 0) in lower-case hexadecimal, zero-padded to `width` digits.
func appendHex(_ value: Int, width: Int, to out: inout [UInt8]) {
    let hex = Array("0123456789abcdef".utf8)
    for shift in stride(from: 4 * (width - 1), through: 0, by: -4) {
        out.append(hex[(value >> shift) & 0xF])
    }
}
