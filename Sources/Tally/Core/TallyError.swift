/// An error that says what kind of failure it is, which stage raised it, and where.
///
/// Its description has the shape `path:line:column: error: [stage] message`; the kind maps to
/// the process exit code (sysexits).
public struct TallyError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure: decides the exit code.
    public enum Kind: Sendable, Equatable {
        /// The command line was used wrongly (64).
        case usage
        /// The input data is bad: too many bad rows, corrupt zstd, a missing column (65).
        case badInput
        /// No input file matched (66).
        case noInput
        /// The output could not be created (73).
        case cannotCreateOutput
        /// Reading or writing failed (74).
        case io
        /// The pipeline file is invalid (78).
        case config
        /// Stopped by SIGINT (130) or SIGTERM (143); the code is set where the signal is known.
        case interrupted

        /// The sysexits code for this kind.
        public var exitCode: Int32 {
            switch self {
            case .usage: 64
            case .badInput: 65
            case .noInput: 66
            case .cannotCreateOutput: 73
            case .io: 74
            case .config: 78
            case .interrupted: 130
            }
        }
    }

    /// The stage that raised the error, shown in brackets.
    public enum Stage: String, Sendable {
        case pipeline, read, tokenize, count, reduce, write, run, inspect, plan
    }

    public var kind: Kind
    public var stage: Stage
    public var location: InputLocation?
    public var message: String

    public init(_ kind: Kind, stage: Stage, at location: InputLocation? = nil, _ message: String) {
        self.kind = kind
        self.stage = stage
        self.location = location
        self.message = message
    }

    public var description: String {
        let prefix = location.map { "\($0): " } ?? ""
        return "\(prefix)error: [\(stage.rawValue)] \(message)".printable
    }
}

extension String {
    /// The text with its control characters (a NUL, an ESC, a line end in a quoted id) written
    /// as `\x1B`, and the invisible ones that break or reorder a line (U+2028, the bidirectional
    /// controls) as `\u{2028}`, so that a message quoting input bytes stays one line of plain
    /// text on a terminal or in a log, shown in the order of its bytes.
    public var printable: String {
        guard unicodeScalars.contains(where: \.isControl) else { return self }
        var text = ""
        for scalar in unicodeScalars {
            if scalar.isControl {
                let hex = String(scalar.value, radix: 16, uppercase: true)
                text += scalar.value <= 0xFF ? "\\x" + hex.leftPadded(to: 2) : "\\u{" + hex + "}"
            } else {
                text.unicodeScalars.append(scalar)
            }
        }
        return text
    }

    private func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}

private extension Unicode.Scalar {
    /// C0 and C1 control characters, DEL, the line and paragraph separators, and the
    /// bidirectional marks, embeddings, overrides and isolates.
    var isControl: Bool {
        switch value {
        case 0..<0x20, 0x7F...0x9F, 0x061C, 0x200E, 0x200F, 0x2028...0x202E, 0x2066...0x2069: true
        default: false
        }
    }
}
