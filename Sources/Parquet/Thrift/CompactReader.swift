/// Reads Thrift compact-protocol values from a byte range, bounds-checking every read.
///
/// Errors name the file offset (`baseOffset` + position) so a corrupt footer or page header can
/// be located.
struct CompactReader {
    /// A field header: its id, wire type and, for bool fields, the value carried in the type.
    struct Field {
        var id: Int16
        var type: CompactType
    }

    private let bytes: [UInt8]
    private(set) var position: Int
    private let end: Int
    private let baseOffset: Int
    private var lastFieldIDs: [Int16] = []
    private static let maxDepth = 64

    /// Reads `bytes[range]`; `baseOffset` is the file offset of `bytes[0]`, used in messages.
    init(_ bytes: [UInt8], range: Range<Int>? = nil, baseOffset: Int = 0) {
        self.bytes = bytes
        let range = range ?? 0..<bytes.count
        self.position = range.lowerBound
        self.end = range.upperBound
        self.baseOffset = baseOffset
    }

    func error(_ message: String) -> ParquetError {
        ParquetError("invalid Thrift data at byte \(baseOffset + position): \(message)")
    }

    var remaining: Int { end - position }

    // MARK: Primitives

    mutating func readByte() throws -> UInt8 {
        guard position < end else { throw error("unexpected end of data") }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func readVarint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try readByte()
            if shift == 63 && byte > 1 { throw error("varint overflows 64 bits") }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw error("varint longer than 10 bytes") }
        }
    }

    mutating func readZigzag() throws -> Int64 {
        let raw = try readVarint()
        return Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)
    }

    mutating func readBinaryBytes() throws -> [UInt8] {
        let length = try readVarint()
        guard length <= UInt64(remaining) else {
            throw error("binary length \(length) exceeds the \(remaining) bytes left")
        }
        let start = position
        position += Int(length)
        return Array(bytes[start..<position])
    }

    mutating func readString() throws -> String {
        String(decoding: try readBinaryBytes(), as: UTF8.self)
    }

    // MARK: Typed field values

    private func expectInteger(_ field: Field) throws {
        switch field.type {
        case .i8, .i16, .i32, .i64: return
        default: throw error("field \(field.id) is \(field.type.name), expected an integer")
        }
    }

    mutating func readI64(_ field: Field) throws -> Int64 {
        try expectInteger(field)
        if field.type == .i8 { return Int64(Int8(bitPattern: try readByte())) }
        return try readZigzag()
    }

    mutating func readI32(_ field: Field) throws -> Int32 {
        let value = try readI64(field)
        guard let narrow = Int32(exactly: value) else { throw error("field \(field.id) value \(value) exceeds i32") }
        return narrow
    }

    mutating func readI16(_ field: Field) throws -> Int16 {
        let value = try readI64(field)
        guard let narrow = Int16(exactly: value) else { throw error("field \(field.id) value \(value) exceeds i16") }
        return narrow
    }

    mutating func readBool(_ field: Field) throws -> Bool {
        switch field.type {
        case .boolTrue: return true
        case .boolFalse: return false
        default: throw error("field \(field.id) is \(field.type.name), expected bool")
        }
    }

    mutating func readBinary(_ field: Field) throws -> [UInt8] {
        guard field.type == .binary else { throw error("field \(field.id) is \(field.type.name), expected binary") }
        return try readBinaryBytes()
    }

    mutating func readString(_ field: Field) throws -> String {
        String(decoding: try readBinary(field), as: UTF8.self)
    }

    mutating func readStruct<T: ThriftStruct>(_ field: Field, as type: T.Type = T.self) throws -> T {
        guard field.type == .struct else { throw error("field \(field.id) is \(field.type.name), expected struct") }
        return try T(from: &self)
    }

    /// Reads a list header; the count is checked against the bytes left (every element takes one).
    mutating func readListHeader() throws -> (count: Int, type: CompactType) {
        let header = try readByte()
        guard let type = CompactType(rawValue: header & 0x0F) else {
            throw error("unknown list element type \(header & 0x0F)")
        }
        var count = UInt64(header >> 4)
        if count == 15 { count = try readVarint() }
        guard count <= UInt64(remaining) else { throw error("list of \(count) elements exceeds the \(remaining) bytes left") }
        return (Int(count), type)
    }

    mutating func readList<T>(_ field: Field, _ element: (inout CompactReader, CompactType) throws -> T) throws -> [T] {
        guard field.type == .list || field.type == .set else {
            throw error("field \(field.id) is \(field.type.name), expected list")
        }
        let (count, type) = try readListHeader()
        var result: [T] = []
        result.reserveCapacity(count)
        for _ in 0..<count { result.append(try element(&self, type)) }
        return result
    }

    mutating func readStructList<T: ThriftStruct>(_ field: Field, as: T.Type = T.self) throws -> [T] {
        try readList(field) { reader, type in
            guard type == .struct else { throw reader.error("list element is \(type.name), expected struct") }
            return try T(from: &reader)
        }
    }

    mutating func readI32List(_ field: Field) throws -> [Int32] {
        try readList(field) { reader, type in try reader.readI32(Field(id: field.id, type: type)) }
    }

    mutating func readStringList(_ field: Field) throws -> [String] {
        try readList(field) { reader, type in try reader.readString(Field(id: field.id, type: type)) }
    }

    // MARK: Structs

    /// Reads a struct body, calling `body` for each field until STOP; `body` must consume or skip
    /// the field's value.
    mutating func readFields(_ body: (inout CompactReader, Field) throws -> Void) throws {
        guard lastFieldIDs.count < Self.maxDepth else { throw error("structs nested deeper than \(Self.maxDepth)") }
        lastFieldIDs.append(0)
        defer { lastFieldIDs.removeLast() }
        while true {
            guard let field = try readFieldHeader() else { return }
            try body(&self, field)
        }
    }

    /// Reads a field header; nil at STOP.
    private mutating func readFieldHeader() throws -> Field? {
        let header = try readByte()
        if header == 0 { return nil }
        guard let type = CompactType(rawValue: header & 0x0F), type != .stop else {
            throw error("unknown field type \(header & 0x0F)")
        }
        let delta = header >> 4
        let id: Int16
        if delta == 0 {
            let raw = try readZigzag()
            guard let narrow = Int16(exactly: raw) else { throw error("field id \(raw) exceeds i16") }
            id = narrow
        } else {
            let (sum, overflow) = lastFieldIDs[lastFieldIDs.count - 1].addingReportingOverflow(Int16(delta))
            guard !overflow else { throw error("field id overflows i16") }
            id = sum
        }
        lastFieldIDs[lastFieldIDs.count - 1] = id
        return Field(id: id, type: type)
    }

    /// Skips the value of a field of type `type`.
    mutating func skip(_ type: CompactType) throws {
        try skip(type, depth: 0)
    }

    private mutating func skip(_ type: CompactType, depth: Int) throws {
        guard depth < Self.maxDepth else { throw error("values nested deeper than \(Self.maxDepth)") }
        switch type {
        case .stop: throw error("unexpected STOP")
        case .boolTrue, .boolFalse: return // a struct field's value is in its header
        case .i8: _ = try readByte()
        case .i16, .i32, .i64: _ = try readVarint()
        case .double: try skipBytes(8)
        case .uuid: try skipBytes(16)
        case .binary:
            let length = try readVarint()
            guard length <= UInt64(remaining) else { throw error("binary length \(length) exceeds the \(remaining) bytes left") }
            position += Int(length)
        case .list, .set:
            let (count, elementType) = try readListHeader()
            for _ in 0..<count {
                if elementType == .boolTrue || elementType == .boolFalse {
                    _ = try readByte() // bool list elements are one byte each
                } else {
                    try skip(elementType, depth: depth + 1)
                }
            }
        case .map:
            let count = try readVarint()
            if count == 0 { return }
            guard count <= UInt64(remaining) else { throw error("map of \(count) entries exceeds the \(remaining) bytes left") }
            let types = try readByte()
            guard let keyType = CompactType(rawValue: types >> 4), let valueType = CompactType(rawValue: types & 0x0F) else {
                throw error("unknown map key/value types \(types)")
            }
            for _ in 0..<count {
                try skipElement(keyType, depth: depth + 1)
                try skipElement(valueType, depth: depth + 1)
            }
        case .struct:
            guard lastFieldIDs.count < Self.maxDepth else { throw error("structs nested deeper than \(Self.maxDepth)") }
            lastFieldIDs.append(0)
            defer { lastFieldIDs.removeLast() }
            while let field = try readFieldHeader() {
                try skip(field.type, depth: depth + 1)
            }
        }
    }

    /// Skips a list or map element, where bools take one byte.
    private mutating func skipElement(_ type: CompactType, depth: Int) throws {
        if type == .boolTrue || type == .boolFalse { _ = try readByte() } else { try skip(type, depth: depth) }
    }

    private mutating func skipBytes(_ count: Int) throws {
        guard count <= remaining else { throw error("unexpected end of data") }
        position += count
    }
}
