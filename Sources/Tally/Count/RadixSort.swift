/// The order that sorts `keys` ascending (a permutation of their indices): an LSD radix sort,
/// 16 bits a pass, skipping the passes whose digit is the same for every key. O(n) per pass, and
/// stable, so equal keys keep their order.
func radixOrder(_ keys: [UInt64]) -> [Int32] {
    let n = keys.count
    var order = (0..<Int32(n)).map { $0 }
    guard n > 1 else { return order }
    var scratch = [Int32](repeating: 0, count: n)
    var counts = [Int](repeating: 0, count: 1 << 16)
    let varying = keys.reduce(0) { $0 | ($1 ^ keys[0]) }
    for pass in 0..<4 {
        let shift = UInt64(16 * pass)
        guard (varying >> shift) & 0xFFFF != 0 else { continue }
        for i in counts.indices { counts[i] = 0 }
        for key in keys { counts[Int((key >> shift) & 0xFFFF)] += 1 }
        var total = 0
        for i in counts.indices { (counts[i], total) = (total, total + counts[i]) }
        for index in order {
            let digit = Int((keys[Int(index)] >> shift) & 0xFFFF)
            scratch[counts[digit]] = index
            counts[digit] += 1
        }
        swap(&order, &scratch)
    }
    return order
}
