/// Serializes values with the Thrift compact protocol into a byte array.
///
/// Structs are written with `beginStruct`/`endStruct` pairs, which keep the field-id deltas
/// per struct.
struct CompactWriter {
    private(set) var bytes: [UInt8] = []
    private var lastFieldIDs: [Int16] = [0]

    init() {}

    // MARK: Primitive encodings

    /// Writes `value` as an unsigned LEB128 varint.
    mutating func writeVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// Writes `value` zigzag-encoded as a varint (i16, i32 and i64 all use this).
    mutating func writeZigzag(_ value: Int64) {
        writeVarint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    /// Writes a varint length then the bytes.
    mutating func writeBinary(_ value: some Collection<UInt8>) {
        writeVarint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    // MARK: Fields

    /// Writes a field header: short form when the id delta is 1...15, long form otherwise.
    mutating func writeFieldHeader(_ id: Int16, _ type: CompactType) {
        let last = lastFieldIDs[lastFieldIDs.count - 1]
        let delta = Int(id) - Int(last)
        if delta > 0 && delta <= 15 {
            bytes.append(UInt8(delta) << 4 | type.rawValue)
        } else {
            bytes.append(type.rawValue)
            writeZigzag(Int64(id))
        }
        lastFieldIDs[lastFieldIDs.count - 1] = id
    }

    mutating func write(_ id: Int16, i16 value: Int16) {
        writeFieldHeader(id, .i16)
        writeZigzag(Int64(value))
    }

    mutating func write(_ id: Int16, i32 value: Int32) {
        writeFieldHeader(id, .i32)
        writeZigzag(Int64(value))
    }

    mutating func write(_ id: Int16, i64 value: Int64) {
        writeFieldHeader(id, .i64)
        writeZigzag(value)
    }

    mutating func write(_ id: Int16, binary value: some Collection<UInt8>) {
        writeFieldHeader(id, .binary)
        writeBinary(value)
    }

    mutating func write(_ id: Int16, string value: String) {
        write(id, binary: Array(value.utf8))
    }

    /// Writes a bool field: the value lives in the header's type nibble.
    mutating func write(_ id: Int16, bool value: Bool) {
        writeFieldHeader(id, value ? .boolTrue : .boolFalse)
    }

    mutating func write(_ id: Int16, struct value: some ThriftStruct) {
        beginStruct(id)
        value.writeFields(to: &self)
        endStruct()
    }

    // MARK: Structs and lists

    /// Starts a struct-valued field.
    mutating func beginStruct(_ id: Int16) {
        writeFieldHeader(id, .struct)
        beginStruct()
    }

    /// Starts a struct with no field header (top level or list element).
    mutating func beginStruct() {
        lastFieldIDs.append(0)
    }

    /// Writes STOP and ends the innermost struct.
    mutating func endStruct() {
        bytes.append(CompactType.stop.rawValue)
        lastFieldIDs.removeLast()
    }

    /// Writes a list header: `ssss tttt` for up to 14 elements, else `1111 tttt` then a varint size.
    mutating func writeListHeader(count: Int, of type: CompactType) {
        if count <= 14 {
            bytes.append(UInt8(count) << 4 | type.rawValue)
        } else {
            bytes.append(0xF0 | type.rawValue)
            writeVarint(UInt64(count))
        }
    }

    mutating func write(_ id: Int16, i32List values: [Int32]) {
        writeFieldHeader(id, .list)
        writeListHeader(count: values.count, of: .i32)
        for value in values { writeZigzag(Int64(value)) }
    }

    mutating func write(_ id: Int16, stringList values: [String]) {
        writeFieldHeader(id, .list)
        writeListHeader(count: values.count, of: .binary)
        for value in values { writeBinary(Array(value.utf8)) }
    }

    mutating func write(_ id: Int16, structList values: [some ThriftStruct]) {
        writeFieldHeader(id, .list)
        writeListHeader(count: values.count, of: .struct)
        for value in values {
            beginStruct()
            value.writeFields(to: &self)
            endStruct()
        }
    }

    /// Serializes `value` as a top-level struct.
    static func serialize(_ value: some ThriftStruct) -> [UInt8] {
        var writer = CompactWriter()
        writer.beginStruct()
        value.writeFields(to: &writer)
        writer.endStruct()
        return writer.bytes
    }
}
