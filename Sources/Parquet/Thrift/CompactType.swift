/// The 4-bit type codes of the Thrift compact protocol.
enum CompactType: UInt8 {
    case stop = 0
    case boolTrue = 1
    case boolFalse = 2
    case i8 = 3
    case i16 = 4
    case i32 = 5
    case i64 = 6
    case double = 7
    case binary = 8
    case list = 9
    case set = 10
    case map = 11
    case `struct` = 12
    case uuid = 13

    var name: String {
        switch self {
        case .stop: "stop"
        case .boolTrue, .boolFalse: "bool"
        case .i8: "i8"
        case .i16: "i16"
        case .i32: "i32"
        case .i64: "i64"
        case .double: "double"
        case .binary: "binary"
        case .list: "list"
        case .set: "set"
        case .map: "map"
        case .struct: "struct"
        case .uuid: "uuid"
        }
    }
}

/// A Thrift struct that can be written and read with the compact protocol.
protocol ThriftStruct {
    /// Writes the fields (not the closing STOP) in ascending id order.
    func writeFields(to writer: inout CompactWriter)
    /// Reads a whole struct body, skipping unknown fields.
    init(from reader: inout CompactReader) throws
}
